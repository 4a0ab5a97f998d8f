"""The edge of a service's RPCs: commands parsed with the keys their actors are verified with.

A dependency of every service (``BackboneEntrypoints.edge``): it reads ``ACTOR_PUBLIC_KEYS`` when the service is
set up — a service without them does not start — and gives entrypoints ``self.edge.parse(Model, payload)``.
"""

from __future__ import annotations

from typing import Any

from nameko.extensions import DependencyProvider

from shared.actor_assertion import ActorVerifier, actor_verifier_from_config
from shared.edge import AnyCommand, parse_command


class CommandEdge(DependencyProvider):
    def setup(self) -> None:
        self.edge = Edge(actor_verifier_from_config(self.container.config, self.container.service_name))

    def get_dependency(self, worker_ctx) -> Edge:
        return self.edge


class Edge:
    def __init__(self, actors: ActorVerifier) -> None:
        self.actors = actors

    def parse(self, model: type[AnyCommand], payload: Any) -> AnyCommand:
        return parse_command(model, payload, self.actors)

"""A KUBE's life as the registry tells it, in a consumer's own copy of the group (grants' and training's ``groups``
table, with its ``status`` column): funded, active once its first tranche is paid, graduated (mandiri). Dissolution
each consumer handles itself: what else it stops differs."""

from __future__ import annotations

from shared.consumer import UnitOfWork, handles
from shared.contracts import Envelope
from shared.contracts import registry as upstream

SET_STATUS = "UPDATE groups SET status = %s WHERE group_id = %s"


class GroupStatusProjection:
    """Mixed into a read model whose database has a ``groups`` table."""

    @handles("registry.group.funded")
    def on_group_funded(self, data: upstream.GroupFundedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        unit.writes.add(SET_STATUS, ("funded", data.group_id))

    @handles("registry.group.activated")
    def on_group_activated(self, data: upstream.GroupActivatedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        unit.writes.add(SET_STATUS, ("active", data.group_id))

    @handles("registry.group.graduated")
    def on_group_graduated(self, data: upstream.GroupGraduatedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        unit.writes.add(SET_STATUS, ("graduated", data.group_id))

"""Training service: thin nameko entrypoints over the training application."""

from __future__ import annotations

from services.training.application import TrainingApplication
from shared.backbone import Backbone, BackboneEntrypoints, domain_rpc


class TrainingService(BackboneEntrypoints):
    name = "training"
    app: TrainingApplication = Backbone(TrainingApplication)

    @domain_rpc
    def individual(self, nik: str) -> dict | None:
        return self.app.individual(nik)

    @domain_rpc
    def individuals_summary(self) -> dict:
        return self.app.individuals_summary()

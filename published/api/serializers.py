"""Serializers of the published-figures API (read only)."""

from __future__ import annotations

from rest_framework import serializers

from published.models import PublishedFigure


class PublishedFigureSerializer(serializers.ModelSerializer):
    class Meta:
        model = PublishedFigure
        fields = [
            "id",
            "subject",
            "province",
            "region",
            "measure",
            "value",
            "unit",
            "qualifier",
            "year",
            "period",
            "quote",
            "source_document",
            "source_title",
            "location",
            "indicator",
            "task_target",
            "definition_note",
        ]
        read_only_fields = fields

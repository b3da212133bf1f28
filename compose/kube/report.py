"""Warnings of one conversion: ordered, each once; nothing the converter drops is silent."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Report:
    warnings: list[str] = field(default_factory=list)

    def warn(self, subject: str, text: str) -> None:
        """``subject`` names the compose object: ``service "web"``, ``volume "data"``, ..."""
        line = f"{subject}: {text}"
        if line not in self.warnings:
            self.warnings.append(line)

    def unmapped(self, subject: str, key: str) -> None:
        self.warn(subject, f'key "{key}" has no Kubernetes mapping, skipped')


def service_subject(name: str) -> str:
    return f'service "{name}"'

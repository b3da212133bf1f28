"""Compose stack → Kubernetes manifests that are correct, not just schema-valid (issue 18).

Pure: it consumes the loaded, typed ``Stack`` (the same loader every command uses) plus the
``Facts`` read once by ``compose.kube.facts.gather`` (bind-mounted files, local image
configs), and returns plain-data manifests and warnings::

    from compose.kube import KubeOptions, convert, gather
    from compose.kube.check import check_conversion
    from compose.kube.output import render_stream, write_directory

    conversion = convert(stack, KubeOptions(namespace="demo"), gather(stack, store))
    check_conversion(conversion, "1.33")     # schema (kubernetes-validate) + semantics; raises
    text = render_stream(conversion.objects)  # multi-document YAML (or write_directory)

Modules: ``names`` (the one sanitizer), ``units`` (kind, name, ports per service),
``storage`` (volumes, binds, configs, secrets), ``container``/``probes``/``workload``
(pods), ``services``, ``depends``, ``netpol``, ``keys`` (what is mapped; the rest warns),
``output``, ``check`` and ``schema``.
"""

from __future__ import annotations

from compose.kube.convert import Conversion, convert
from compose.kube.facts import Facts, gather
from compose.kube.options import KubeOptions

__all__ = ["Conversion", "Facts", "KubeOptions", "convert", "gather"]

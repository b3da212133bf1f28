"""Which service keys the converter maps: the one table behind "nothing silent".

A key set on a service that is neither ``MAPPED`` nor ``RESOLVED_BY_LOADER`` gets the warning
``service "web": key "devices" has no Kubernetes mapping, skipped``. A model field added later
is therefore warned about until someone maps it here. Mapped keys may still warn about single
values they cannot carry (``user: node``, ``network_mode: service:x``, ...); those warnings
come from the module that maps the key.
"""

from __future__ import annotations

from compose.kube.report import Report, service_subject
from compose.model import Service

MAPPED = frozenset(
    """annotations build cap_add cap_drop command configs cpus depends_on deploy dns dns_opt
    dns_search entrypoint environment expose extra_hosts group_add healthcheck hostname image
    init ipc labels mem_limit mem_reservation network_mode networks pid platform ports
    post_start pre_stop privileged pull_policy read_only restart scale secrets security_opt
    shm_size stdin_open stop_grace_period sysctls tmpfs tty user volumes working_dir""".split()
)
# folded into other keys, or consumed by the loader (selection, merging) before we see them
RESOLVED_BY_LOADER = frozenset({"name", "profiles", "extends", "env_file", "label_file"})
# a network attachment maps its aliases (extra Services); addresses, priorities, ... warn
# deploy.* keys the workload mapping reads; the rest are warned
DEPLOY_MAPPED = frozenset(
    "mode replicas labels resources restart_policy update_config placement endpoint_mode".split()
)


def unmapped_keys(service: Service) -> list[str]:
    """Keys ``service`` sets that no mapping reads, in the model's field order."""
    keys = [
        key
        for key in type(service).model_fields
        if key in service.model_fields_set and key not in MAPPED | RESOLVED_BY_LOADER
    ]
    for network, attachment in service.networks.items():
        fields = attachment.model_fields_set - {"aliases"} if attachment is not None else ()
        keys += [f"networks.{network}.{key}" for key in sorted(fields)]
    deploy = service.deploy
    if deploy is not None:
        keys += [
            f"deploy.{key}"
            for key in type(deploy).model_fields
            if key in deploy.model_fields_set and key not in DEPLOY_MAPPED
        ]
    return keys


def warn_unmapped(service: Service, report: Report) -> None:
    for key in unmapped_keys(service):
        report.unmapped(service_subject(service.name), key)

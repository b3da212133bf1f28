"""Nothing silent: every key or value without a mapping is one warning line; --strict fails."""

from __future__ import annotations

import pytest
from kube_helpers import convert_stack, load, write_stack

from compose.errors import KubeConversionError
from compose.kube import KubeOptions, convert, gather
from compose.kube.keys import MAPPED, RESOLVED_BY_LOADER, unmapped_keys
from compose.model import Service

# key → the service body that sets it (besides image)
UNMAPPED = {
    "devices": "devices: ['/dev/fuse:/dev/fuse']",
    "container_name": "container_name: my-web",
    "stop_signal": "stop_signal: SIGINT",
    "ulimits": "ulimits: {nofile: 1024}",
    "logging": "logging: {driver: json-file}",
    "cpu_shares": "cpu_shares: 512",
    "runtime": "runtime: runsc",
    "cgroup_parent": "cgroup_parent: /x",
    "mac_address": "mac_address: 02:42:ac:11:00:02",
    "oom_score_adj": "oom_score_adj: 100",
    "volumes_from": "volumes_from: [other]",
    "develop": "develop: {watch: [{path: ., action: rebuild}]}",
    "deploy.rollback_config": "deploy: {rollback_config: {parallelism: 1}}",
    "networks.default.ipv4_address": "networks: {default: {ipv4_address: 172.20.0.2}}",
}


@pytest.mark.parametrize("key", sorted(UNMAPPED))
def test_each_unmapped_key_warns_once(tmp_path, key: str) -> None:
    conversion = convert_stack(
        tmp_path,
        f"services:\n  web:\n    image: nginx\n    expose: ['80']\n    {UNMAPPED[key]}\n"
        "  other: {image: nginx, expose: ['80']}\n",
    )
    line = f'service "web": key "{key}" has no Kubernetes mapping, skipped'
    assert conversion.warnings.count(line) == 1


def test_every_model_field_is_mapped_or_warned() -> None:
    """A field added to the model later warns until someone maps it."""
    base = Service.model_validate({"image": "x", "__name__": "web"})
    for field, info in Service.model_fields.items():
        copy = base.model_copy(update={field: info.get_default(call_default_factory=True)})
        expected = field not in MAPPED | RESOLVED_BY_LOADER
        assert (field in unmapped_keys(copy)) is expected, field


# the warnings a mapped key gives for a value it cannot carry, each with its trigger
VALUE_WARNINGS = {
    "user name": ("user: node", 'user "node" is a name'),
    "group name": ("group_add: [docker]", 'group_add "docker" is a name'),
    "unsafe sysctl": ("sysctls: {net.core.somaxconn: 1024}", "is not in Kubernetes' safe set"),
    "privileged": ("privileged: true", "Privileged Pod Security level"),
    "network_mode service": ("network_mode: service:other", 'network_mode "service:other"'),
    "pid host": ("pid: host", "pid: host needs"),
    "security_opt": ("security_opt: [label:disable]", 'security_opt "label:disable"'),
    "pull_policy": ("pull_policy: daily", 'pull_policy "daily"'),
    "pids": ("pids_limit: 100", "a pids limit has no Kubernetes equivalent"),
    "hostname": ("hostname: My_Host", 'hostname "My_Host" becomes "my-host"'),
    "host-gateway": (
        "extra_hosts: ['host.docker.internal:host-gateway']",
        "host-gateway has no mapping",
    ),
    "placement": (
        "deploy: {placement: {constraints: [node.role==manager]}}",
        'placement constraint "node.role==manager"',
    ),
    "anonymous volume": ("volumes: [/data]", "anonymous volume at /data becomes an emptyDir"),
    "writable bind file": ("volumes: ['./f.conf:/f.conf']", "which is read-only"),
    "missing bind": ("volumes: ['./nothere:/x']", "does not exist here"),
    "healthcheck without test": (
        "healthcheck: {interval: 5s}",
        "healthcheck has no test and the image's HEALTHCHECK is not known",
    ),
    "empty entrypoint": ("entrypoint: []", "an empty entrypoint"),
    "uid of a config": (
        "configs: [{source: c, uid: '1'}]",
        "uid/gid have no mapping",
    ),
    "hook keys": (
        "post_start: [{command: ['true'], user: root}]",
        "postStart hook keys user have no mapping",
    ),
}


@pytest.mark.parametrize("case", sorted(VALUE_WARNINGS))
def test_each_value_warning(tmp_path, case: str) -> None:
    body, text = VALUE_WARNINGS[case]
    conversion = convert_stack(
        tmp_path,
        f"services:\n  web:\n    image: nginx\n    expose: ['80']\n    {body}\n"
        "  other: {image: nginx, expose: ['80']}\n"
        "configs: {c: {content: x}}\n",
        files={"f.conf": "x"},
    )
    assert len([w for w in conversion.warnings if text in w]) == 1, conversion.warnings


def test_network_and_volume_options_warn(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path,
        """
        services:
          web: {image: nginx, expose: ['80'], networks: [net], volumes: ['vol:/v']}
        networks: {net: {driver: macvlan, internal: true}}
        volumes: {vol: {driver: nfs, driver_opts: {o: addr=1.2.3.4}}}
        """,
    )
    assert 'network "net": key "driver" has no Kubernetes mapping, skipped' in conversion.warnings
    assert 'network "net": key "internal" has no Kubernetes mapping, skipped' in conversion.warnings
    assert any(w.startswith('volume "vol": driver "nfs"') for w in conversion.warnings)
    assert 'volume "vol": driver_opts have no Kubernetes mapping, skipped' in conversion.warnings


def test_strict_turns_warnings_into_a_user_error(tmp_path) -> None:
    stack = load(write_stack(tmp_path, "services: {web: {image: nginx, devices: ['/dev/fuse']}}\n"))
    with pytest.raises(KubeConversionError) as caught:
        convert(stack, KubeOptions(strict=True), gather(stack))
    assert (
        'service "web": key "devices" has no Kubernetes mapping, skipped' in caught.value.problems
    )
    assert caught.value.exit_code == 1


def test_a_clean_stack_converts_under_strict(tmp_path) -> None:
    stack = load(write_stack(tmp_path, "services: {web: {image: nginx, expose: ['80']}}\n"))
    assert convert(stack, KubeOptions(strict=True), gather(stack)).warnings == ()

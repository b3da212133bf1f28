"""--check: the schema catches what is malformed, the semantic checks what is wrong."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from kube_helpers import convert_stack, one

from compose.errors import KubeConversionError, UserError
from compose.kube.check import check_conversion, semantic_problems
from compose.kube.schema import schema_problems, schema_version

STACK = """
name: demo
services:
  web:
    image: nginx
    ports: ["8080:80"]
    volumes: ["data:/data", "./site.conf:/etc/site.conf:ro"]
    secrets: [token]
  job: {image: app, restart: "no"}
volumes: {data: {}}
secrets: {token: {file: ./token}}
"""


@pytest.fixture
def conversion(tmp_path):  # type: ignore[no-untyped-def]
    return convert_stack(tmp_path, STACK, files={"site.conf": "x", "token": "t"})


def test_a_conversion_passes_both_checks(conversion) -> None:
    check_conversion(conversion, "1.33")
    assert schema_problems(conversion.objects, "1.25") == []


def broken(conversion, kind: str, name: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    objects = copy.deepcopy(list(conversion.objects))
    target = next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)
    return objects, target


def test_the_schema_rejects_unknown_fields_and_wrong_types(conversion) -> None:
    objects, web = broken(conversion, "Deployment", "web")
    web["spec"]["template"]["spec"]["containers"][0]["bogus"] = 1
    web["spec"]["replicas"] = "one"
    problems = schema_problems(objects, "1.33")
    assert any("'bogus' was unexpected" in p for p in problems), problems
    assert any("spec.replicas" in p for p in problems), problems


def test_schema_versions() -> None:
    assert schema_version("1.33") == "1.33.0"
    assert schema_version("v1.30.4") == "1.30.0"
    with pytest.raises(UserError, match=r"no schema for Kubernetes 1\.99"):
        schema_version("1.99")
    with pytest.raises(UserError, match="not a Kubernetes version"):
        schema_version("latest")


def _problems(objects: list[dict[str, Any]], conversion) -> list[str]:
    return semantic_problems(objects, conversion.external)


def test_a_service_selector_must_match_exactly_one_workload(conversion) -> None:
    objects, svc = broken(conversion, "Service", "web")
    svc["spec"]["selector"] = {"app.kubernetes.io/part-of": "demo"}  # web and job pods
    assert "Service/web: selector matches 2 workloads, not exactly one" in _problems(
        objects, conversion
    )
    svc["spec"]["selector"] = {"app": "nothing"}
    assert "Service/web: selector matches 0 workloads, not exactly one" in _problems(
        objects, conversion
    )


def test_every_target_port_is_a_container_port(conversion) -> None:
    objects, svc = broken(conversion, "Service", "web")
    svc["spec"]["ports"][0]["targetPort"] = 8080  # kompose's mistake: the published port
    assert any(
        "targetPort 8080/TCP is not a containerPort" in p for p in _problems(objects, conversion)
    )


def test_references_must_exist(conversion) -> None:
    objects = [
        o for o in conversion.objects if o["kind"] not in ("PersistentVolumeClaim", "Secret")
    ]
    problems = _problems(objects, conversion)
    assert (
        'Deployment/web: PersistentVolumeClaim "data" is neither in the output nor external'
        in problems
    )
    assert 'Deployment/web: Secret "token" is neither in the output nor external' in problems


def test_mounts_name_pod_volumes(conversion) -> None:
    objects, web = broken(conversion, "Deployment", "web")
    web["spec"]["template"]["spec"]["volumes"].pop(0)
    assert any("mounts the unknown volume" in p for p in _problems(objects, conversion))


def test_restart_policy_must_fit_the_kind(conversion) -> None:
    objects, web = broken(conversion, "Deployment", "web")
    web["spec"]["template"]["spec"]["restartPolicy"] = "Never"  # Compose Bridge's restart: no
    objects[[o["metadata"]["name"] for o in objects].index("job")]["spec"]["template"]["spec"][
        "restartPolicy"
    ] = "Always"
    problems = _problems(objects, conversion)
    assert "Deployment/web: restartPolicy Never is not allowed (only Always)" in problems
    assert "Job/job: restartPolicy Always is not allowed (only OnFailure or Never)" in problems
    assert schema_problems(objects, "1.33") == []  # the schema has no idea


def test_names_must_be_valid_and_unique(conversion) -> None:
    objects, svc = broken(conversion, "Service", "web")
    svc["metadata"]["name"] = "front_end"  # kompose's golden fixture
    objects.append(copy.deepcopy(one(conversion, "Deployment", "web")))
    problems = _problems(objects, conversion)
    assert 'Service/front_end: name "front_end" is not an RFC 1035 label' in problems
    assert "Deployment/web: two objects of this kind share the name" in problems
    assert schema_problems([svc], "1.33") == []  # the schema accepts it


def test_labels_and_port_names_are_checked(conversion) -> None:
    objects, web = broken(conversion, "Deployment", "web")
    web["metadata"]["labels"]["bad key!"] = "x"
    web["spec"]["template"]["spec"]["containers"][0]["ports"][0]["name"] = "web-80-"
    problems = _problems(objects, conversion)
    assert any('label key "bad key!" is invalid' in p for p in problems)
    assert any('container port name "web-80-" is invalid' in p for p in problems)


def test_node_ports_are_in_range(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path, "services: {web: {image: nginx, ports: ['30080:80']}}\n", publish="NodePort"
    )
    objects, svc = broken(conversion, "Service", "web-published")
    svc["spec"]["ports"][0]["nodePort"] = 8080
    assert "Service/web-published: nodePort 8080 is outside 30000-32767" in _problems(
        objects, conversion
    )


def test_a_volume_size_must_be_a_quantity() -> None:
    from compose.kube import KubeOptions

    assert KubeOptions(volume_size="500Mi").volume_size == "500Mi"
    with pytest.raises(UserError, match="invalid volume size"):
        KubeOptions(volume_size="lots")


def test_a_read_write_once_claim_serves_one_pod(conversion) -> None:
    objects, web = broken(conversion, "Deployment", "web")
    web["spec"]["replicas"] = 3
    assert "PersistentVolumeClaim/data: ReadWriteOnce but mounted by 3 pods" in _problems(
        objects, conversion
    )


def test_a_failed_check_is_a_user_error_listing_every_problem(conversion) -> None:
    objects, svc = broken(conversion, "Service", "web")
    svc["spec"]["ports"][0]["targetPort"] = 8080
    bad = type(conversion)(tuple(objects), conversion.warnings, conversion.external)
    with pytest.raises(KubeConversionError) as caught:
        check_conversion(bad, "1.33")
    assert caught.value.problems[0].startswith("check: Service/web: targetPort 8080/TCP")

"""Names: one sanitizer, valid for each kind, stable, distinct, and collisions reported."""

from __future__ import annotations

import re

import pytest
from kube_helpers import convert_stack, main_container, objects, one, warnings_about

from compose.errors import KubeConversionError
from compose.kube.check import semantic_problems
from compose.kube.names import data_key, derived, dns_label, label_value

RFC1035 = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
LONG = "a" * 70
LONG2 = "a" * 69 + "b"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("front_end", "front-end"),
        ("Web.Server", "web-server"),
        ("UPPER", "upper"),
        ("a__b..c", "a-b-c"),
        ("-x-", "x"),
        ("web", "web"),
    ],
)
def test_dns_label(name: str, expected: str) -> None:
    assert dns_label(name) == expected


def test_long_names_are_cut_with_a_stable_hash_and_stay_distinct() -> None:
    one_, two = dns_label(LONG), dns_label(LONG2)
    assert len(one_) == len(two) == 63
    assert one_ != two
    assert one_ == dns_label(LONG)  # stable
    assert dns_label(LONG, limit=52).endswith(one_[-6:])


def test_services_start_with_a_letter() -> None:
    assert dns_label("1web", letter_first=True) == "svc-1web"
    assert dns_label("1web") == "1web"


def test_derived_names_keep_their_suffix() -> None:
    name = derived(dns_label(LONG), "published")
    assert len(name) <= 63 and name.endswith("-published")


def test_label_values_and_data_keys() -> None:
    assert label_value("my_project") == "my_project"
    assert label_value("_x_") == "x"
    assert len(label_value("p" * 80)) == 63
    assert data_key("nginx.conf") == "nginx.conf"
    assert data_key("my secret") == "my-secret"


def test_hostile_service_names_come_out_valid_and_distinct(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path,
        f"""
        services:
          front_end: {{image: nginx, expose: ["80"]}}
          Web.Server: {{image: nginx, expose: ["80"]}}
          {LONG}: {{image: nginx, expose: ["80"]}}
          {LONG2}: {{image: nginx, expose: ["80"]}}
          9lives: {{image: nginx, expose: ["80"]}}
        """,
    )
    names = [o["metadata"]["name"] for o in objects(conversion, "Service")]
    assert len(set(names)) == 5
    assert all(RFC1035.match(n) for n in names), names
    assert {"front-end", "web-server", "svc-9lives"} <= set(names)
    deployment = one(conversion, "Deployment", "front-end")
    assert deployment["metadata"]["annotations"]["pycompose.io/compose-name"] == "front_end"
    assert main_container(deployment)["name"] == "front-end"
    assert warnings_about(conversion, 'peers that dial "front_end" will not resolve it')
    assert semantic_problems(conversion.objects) == []


def test_a_collision_is_an_error_naming_both(tmp_path) -> None:
    with pytest.raises(KubeConversionError) as caught:
        convert_stack(
            tmp_path,
            """
            services:
              web_demo: {image: nginx}
              web.demo: {image: nginx}
            """,
        )
    assert 'service "web.demo" and service "web_demo" both become Service "web-demo"' in str(
        caught.value
    ) or 'service "web_demo" and service "web.demo"' in str(caught.value)
    assert caught.value.exit_code == 1


def test_a_volume_and_a_bind_mount_on_one_claim_name_collide(tmp_path) -> None:
    with pytest.raises(KubeConversionError, match='both become PersistentVolumeClaim "data"'):
        convert_stack(
            tmp_path,
            """
            services:
              web: {image: nginx, volumes: ["data:/a", "./data:/b"]}
            volumes: {data: {}}
            """,
            files={"data/x": "1"},
        )


def test_a_long_statefulset_name_fits_52(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path,
        f"""
        services:
          {LONG}: {{image: postgres, volumes: ["pgdata:/var/lib/postgresql/data"]}}
        volumes: {{pgdata: {{}}}}
        """,
        stateful=True,
    )
    [statefulset] = objects(conversion, "StatefulSet")
    assert len(statefulset["metadata"]["name"]) <= 52
    assert statefulset["spec"]["serviceName"] in [
        s["metadata"]["name"] for s in objects(conversion, "Service")
    ]
    assert semantic_problems(conversion.objects) == []

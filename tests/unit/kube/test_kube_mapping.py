"""One test per mapping rule: what a Kubernetes engineer would have written by hand."""

from __future__ import annotations

import base64

import pytest
from kube_helpers import (
    convert_stack,
    main_container,
    objects,
    one,
    pod,
    warnings_about,
)

from compose.kube import Facts
from compose.kube.check import semantic_problems
from compose.kube.facts import ImageFact

SELECTOR = {"app.kubernetes.io/name": "web", "app.kubernetes.io/part-of": "demo"}


def kinds(conversion) -> list[tuple[str, str]]:
    return [(o["kind"], o["metadata"]["name"]) for o in conversion.objects]


# -- workloads ------------------------------------------------------------------------


def test_long_running_service_is_a_deployment_with_its_replicas(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path,
        """
        name: demo
        services:
          web: {image: nginx, deploy: {replicas: 3}}
          api: {image: nginx, scale: 0}
        """,
    )
    assert one(conversion, "Deployment", "web")["spec"]["replicas"] == 3
    assert one(conversion, "Deployment", "api")["spec"]["replicas"] == 0


def test_labels_on_everything_and_selectors_on_name_and_part_of(tmp_path) -> None:
    conversion = convert_stack(tmp_path, "name: demo\nservices: {web: {image: nginx}}\n")
    for obj in conversion.objects:
        assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "pycompose"
        assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "demo"
    deployment = one(conversion, "Deployment", "web")
    assert deployment["spec"]["selector"]["matchLabels"] == SELECTOR
    assert one(conversion, "Service", "web")["spec"]["selector"] == SELECTOR


@pytest.mark.parametrize(
    ("restart", "policy", "backoff"),
    [('"no"', "Never", 0), ("on-failure", "OnFailure", None), ("on-failure:3", "OnFailure", 3)],
)
def test_one_shots_are_jobs(tmp_path, restart: str, policy: str, backoff: int | None) -> None:
    conversion = convert_stack(
        tmp_path, f"services: {{migrate: {{image: app, restart: {restart}}}}}\n"
    )
    job = one(conversion, "Job", "migrate")
    assert pod(job)["restartPolicy"] == policy
    assert job["spec"].get("backoffLimit") == backoff
    assert objects(conversion, "Service") == []  # nobody dials a one-shot


def test_an_awaited_completion_makes_a_job(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path,
        """
        services:
          migrate: {image: app}
          web:
            image: app
            depends_on: {migrate: {condition: service_completed_successfully}}
        """,
    )
    assert ("Job", "migrate") in kinds(conversion)
    assert ("Deployment", "web") in kinds(conversion)


def test_restart_no_on_a_server_stays_a_deployment_with_a_warning(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path, 'services: {api: {image: app, restart: "no", ports: ["8000:8000"]}}\n'
    )
    assert ("Deployment", "api") in kinds(conversion)
    assert warnings_about(conversion, 'restart "no" on a service that serves ports')


def test_global_mode_is_a_daemonset_without_replicas(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path, "services: {agent: {image: agent, deploy: {mode: global}}}\n"
    )
    daemonset = one(conversion, "DaemonSet", "agent")
    assert "replicas" not in daemonset["spec"] and "strategy" not in daemonset["spec"]


STATEFUL = """
services:
  db: {image: postgres, expose: ["5432"], volumes: ["pgdata:/var/lib/postgresql/data"]}
volumes: {pgdata: {}}
"""


def test_a_volume_owner_is_a_recreated_deployment_by_default(tmp_path) -> None:
    conversion = convert_stack(tmp_path, STATEFUL)
    deployment = one(conversion, "Deployment", "db")
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert one(conversion, "PersistentVolumeClaim", "pgdata")["spec"]["accessModes"] == [
        "ReadWriteOnce"
    ]


def test_stateful_makes_a_statefulset_with_a_claim_template(tmp_path) -> None:
    conversion = convert_stack(tmp_path, STATEFUL, stateful=True)
    statefulset = one(conversion, "StatefulSet", "db")
    assert statefulset["spec"]["serviceName"] == "db"
    [template] = statefulset["spec"]["volumeClaimTemplates"]
    assert template["metadata"]["name"] == "pgdata"
    assert main_container(statefulset)["volumeMounts"][0]["name"] == "pgdata"
    assert one(conversion, "Service", "db")["spec"]["clusterIP"] == "None"
    assert objects(conversion, "PersistentVolumeClaim") == []
    assert semantic_problems(conversion.objects) == []


def test_update_config_order_sets_the_rollout(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path,
        "services: {web: {image: nginx, deploy: {update_config: {order: start-first}}}}\n",
    )
    strategy = one(conversion, "Deployment", "web")["spec"]["strategy"]
    assert strategy["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}


def test_resources_become_limits_and_requests(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path,
        """
        services:
          web:
            image: nginx
            deploy:
              resources:
                limits: {cpus: "0.5", memory: 512M}
                reservations: {cpus: "2", memory: 64M}
        """,
    )
    resources = main_container(one(conversion, "Deployment", "web"))["resources"]
    assert resources == {
        "limits": {"cpu": "500m", "memory": "512Mi"},
        "requests": {"cpu": "2", "memory": "64Mi"},
    }


# -- Services -------------------------------------------------------------------------


def test_the_service_listens_on_target_ports_not_published_ones(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path,
        'services: {db: {image: postgres, ports: ["15432:5432"], expose: ["9187", "53/udp"]}}\n',
    )
    ports = one(conversion, "Service", "db")["spec"]["ports"]
    assert [(p["port"], p["targetPort"], p["protocol"]) for p in ports] == [
        (5432, 5432, "TCP"),
        (9187, 9187, "TCP"),
        (53, 53, "UDP"),
    ]
    assert one(conversion, "Service", "db")["spec"].get("type") is None  # ClusterIP
    assert [s["metadata"]["name"] for s in objects(conversion, "Service")] == ["db"]
    assert warnings_about(conversion, "published port(s) 15432 are not reachable")


def test_the_image_expose_counts_when_the_image_is_known(tmp_path) -> None:
    facts = Facts(images={"redis:7": ImageFact(exposed_ports=("6379/tcp",))})
    conversion = convert_stack(tmp_path, "services: {cache: {image: 'redis:7'}}\n", facts=facts)
    assert one(conversion, "Service", "cache")["spec"]["ports"][0]["port"] == 6379
    container = main_container(one(conversion, "Deployment", "cache"))
    assert container["ports"][0]["containerPort"] == 6379


def test_no_known_port_gives_a_headless_service_with_a_placeholder(tmp_path) -> None:
    conversion = convert_stack(tmp_path, "services: {worker: {image: app}}\n")
    service = one(conversion, "Service", "worker")
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["ports"][0]["name"] == "dns-only"
    assert warnings_about(conversion, "no port is known")
    assert semantic_problems(conversion.objects) == []


@pytest.mark.parametrize("kind", ["NodePort", "LoadBalancer"])
def test_published_ports_get_an_extra_service_on_request(tmp_path, kind: str) -> None:
    conversion = convert_stack(
        tmp_path,
        'services: {web: {image: nginx, ports: ["30080:80", "8443:443"]}}\n',
        publish=kind,
    )
    published = one(conversion, "Service", "web-published")
    assert published["spec"]["type"] == kind
    ports = {p["port"]: p for p in published["spec"]["ports"]}
    assert ports[30080]["targetPort"] == 80
    assert (ports[30080].get("nodePort") == 30080) is (kind == "NodePort")
    assert "nodePort" not in ports[8443]
    assert bool(warnings_about(conversion, "outside the NodePort range")) is (kind == "NodePort")
    assert semantic_problems(conversion.objects) == []


def test_network_aliases_become_services(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path,
        """
        services:
          db: {image: postgres, expose: ["5432"], networks: {back: {aliases: [database]}}}
        networks: {back: {}}
        """,
    )
    alias = one(conversion, "Service", "database")
    assert alias["spec"]["selector"] == one(conversion, "Service", "db")["spec"]["selector"]


def test_endpoint_mode_dnsrr_is_headless(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path,
        'services: {web: {image: nginx, expose: ["80"], deploy: {endpoint_mode: dnsrr}}}\n',
    )
    assert one(conversion, "Service", "web")["spec"]["clusterIP"] == "None"


# -- probes ---------------------------------------------------------------------------


def test_cmd_shell_healthcheck_is_a_readiness_probe_through_sh(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path,
        """
        services:
          db:
            image: postgres
            healthcheck:
              test: ["CMD-SHELL", "pg_isready -U $${POSTGRES_USER}"]
              interval: 10s
              timeout: 5s
              retries: 4
        """,
    )
    container = main_container(one(conversion, "Deployment", "db"))
    assert container["readinessProbe"] == {
        "exec": {"command": ["/bin/sh", "-c", "pg_isready -U ${POSTGRES_USER}"]},
        "periodSeconds": 10,
        "timeoutSeconds": 5,
        "failureThreshold": 4,
    }
    assert "livenessProbe" not in container and "startupProbe" not in container


def test_cmd_healthcheck_execs_and_start_period_adds_a_startup_probe(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path,
        """
        services:
          web:
            image: nginx
            healthcheck:
              test: ["CMD", "curl", "-f", "http://localhost"]
              start_period: 30s
              start_interval: 2s
        """,
    )
    container = main_container(one(conversion, "Deployment", "web"))
    assert container["readinessProbe"]["exec"]["command"] == ["curl", "-f", "http://localhost"]
    startup = container["startupProbe"]
    assert startup["periodSeconds"] == 2
    assert startup["failureThreshold"] == 15 + 3


def test_a_disabled_healthcheck_gives_no_probe(tmp_path) -> None:
    facts = Facts(images={"app": ImageFact(healthcheck={"Test": ["CMD", "true"]})})
    conversion = convert_stack(
        tmp_path, "services: {web: {image: app, healthcheck: {disable: true}}}\n", facts=facts
    )
    assert "readinessProbe" not in main_container(one(conversion, "Deployment", "web"))


def test_the_image_healthcheck_is_used_when_known(tmp_path) -> None:
    facts = Facts(
        images={"app": ImageFact(healthcheck={"Test": ["CMD-SHELL", "check"], "Interval": 7e9})}
    )
    conversion = convert_stack(
        tmp_path, "services: {web: {image: app, healthcheck: {retries: 9}}}\n", facts=facts
    )
    probe = main_container(one(conversion, "Deployment", "web"))["readinessProbe"]
    assert probe["exec"]["command"] == ["/bin/sh", "-c", "check"]
    assert (probe["periodSeconds"], probe["failureThreshold"]) == (7, 9)


# -- depends_on -----------------------------------------------------------------------

DEPENDS = """
services:
  db: {image: postgres, expose: ["5432"]}
  web:
    image: nginx
    depends_on: {db: {condition: service_healthy}}
"""


def test_depends_on_is_an_annotation(tmp_path) -> None:
    conversion = convert_stack(tmp_path, DEPENDS)
    web = one(conversion, "Deployment", "web")
    assert web["metadata"]["annotations"]["pycompose.io/depends-on"] == "db:service_healthy"
    assert "initContainers" not in pod(web)
    assert warnings_about(conversion, "Kubernetes starts every pod at once")


def test_wait_init_adds_an_init_container_per_dependency(tmp_path) -> None:
    conversion = convert_stack(tmp_path, DEPENDS, wait_init="busybox:1.36")
    [init] = pod(one(conversion, "Deployment", "web"))["initContainers"]
    assert init["image"] == "busybox:1.36"
    assert init["command"][-1] == "until nc -z -w 2 db 5432; do echo waiting for db; sleep 2; done"
    assert not warnings_about(conversion, "starts every pod at once")


# -- storage --------------------------------------------------------------------------


def test_a_shared_named_volume_is_one_read_write_many_claim(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path,
        """
        services:
          writer: {image: app, volumes: ["shared:/data"]}
          reader: {image: app, volumes: ["shared:/data:ro"]}
        volumes: {shared: {}}
        """,
    )
    [claim] = objects(conversion, "PersistentVolumeClaim")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    for name in ("writer", "reader"):
        volumes = pod(one(conversion, "Deployment", name))["volumes"]
        assert volumes[0]["persistentVolumeClaim"]["claimName"] == "shared"
    assert warnings_about(conversion, 'shared by services "reader", "writer"') or warnings_about(
        conversion, 'shared by services "writer", "reader"'
    )


def test_replicas_on_a_volume_need_read_write_many(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path,
        "services: {web: {image: app, scale: 2, volumes: ['data:/d']}}\nvolumes: {data: {}}\n",
    )
    assert one(conversion, "PersistentVolumeClaim", "data")["spec"]["accessModes"] == [
        "ReadWriteMany"
    ]
    assert warnings_about(conversion, 'mounted by every replica of "web"')


def test_a_bind_mounted_file_is_a_configmap(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path,
        "services:\n  proxy:\n    image: nginx\n"
        '    volumes: ["./conf/nginx.conf:/etc/nginx/nginx.conf:ro"]\n',
        files={"conf/nginx.conf": "events {}\n"},
    )
    config_map = one(conversion, "ConfigMap", "conf-nginx-conf")
    assert config_map["data"] == {"nginx.conf": "events {}\n"}
    [mount] = main_container(one(conversion, "Deployment", "proxy"))["volumeMounts"]
    assert mount == {
        "name": "conf-nginx-conf-cm",
        "mountPath": "/etc/nginx/nginx.conf",
        "subPath": "nginx.conf",
        "readOnly": True,
    }
    assert [w for w in conversion.warnings if "no port is known" not in w] == []


def test_a_binary_file_goes_to_binary_data(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path,
        'services: {web: {image: nginx, volumes: ["./logo.png:/logo.png:ro"]}}\n',
        files={"logo.png": b"\x89PNG\xff\x00"},
    )
    config_map = one(conversion, "ConfigMap", "logo-png")
    assert base64.b64decode(config_map["binaryData"]["logo.png"]) == b"\x89PNG\xff\x00"


def test_a_bind_mounted_directory_is_an_empty_claim_with_a_warning(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path,
        'services: {web: {image: nginx, volumes: ["./site:/usr/share/nginx/html"]}}\n',
        files={"site/index.html": "hi"},
    )
    assert one(conversion, "PersistentVolumeClaim", "site")
    assert warnings_about(
        conversion, 'bind mount ./site is a directory: it becomes the empty PVC "site"'
    )


def test_a_socket_bind_is_skipped_with_a_warning(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path,
        "services:\n  ui:\n    image: portainer\n"
        '    volumes: ["/var/run/docker.sock:/var/run/docker.sock"]\n',
    )
    assert "volumeMounts" not in main_container(one(conversion, "Deployment", "ui"))
    assert warnings_about(conversion, "socket /var/run/docker.sock has no Kubernetes mapping")


def test_configs_are_configmaps_with_their_exact_key(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path,
        """
        services:
          web:
            image: nginx
            configs: [{source: my_conf.v1, target: /etc/app.conf, mode: 0440}]
        configs:
          my_conf.v1: {content: "key=value"}
        """,
    )
    config_map = one(conversion, "ConfigMap", "my-conf-v1")
    assert config_map["data"] == {"my_conf.v1": "key=value"}
    web = one(conversion, "Deployment", "web")
    [mount] = main_container(web)["volumeMounts"]
    assert (mount["mountPath"], mount["subPath"]) == ("/etc/app.conf", "my_conf.v1")
    assert pod(web)["volumes"][0]["configMap"] == {"name": "my-conf-v1", "defaultMode": 0o440}


def test_secrets_are_secrets_mounted_under_run_secrets(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path,
        """
        services:
          db:
            image: postgres
            secrets: [db_password, {source: api_key, target: key.txt}, vault]
        secrets:
          db_password: {file: ./password.txt}
          api_key: {environment: API_KEY}
          vault: {external: true}
        """,
        files={"password.txt": "s3cret", ".env": "API_KEY=abc\n"},
    )
    secret = one(conversion, "Secret", "db-password")
    assert base64.b64decode(secret["data"]["db_password"]) == b"s3cret"
    assert base64.b64decode(one(conversion, "Secret", "api-key")["data"]["api_key"]) == b"abc"
    assert [s["metadata"]["name"] for s in objects(conversion, "Secret")] == [
        "api-key",
        "db-password",
    ]
    mounts = main_container(one(conversion, "Deployment", "db"))["volumeMounts"]
    assert [m["mountPath"] for m in mounts] == [
        "/run/secrets/db_password",
        "/run/secrets/key.txt",
        "/run/secrets/vault",
    ]
    assert ("Secret", "vault") in conversion.external
    assert warnings_about(conversion, "base64-encoded only")
    assert semantic_problems(conversion.objects, conversion.external) == []


def test_tmpfs_and_shm_size_are_memory_empty_dirs(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path, 'services: {web: {image: app, tmpfs: ["/run:size=64m"], shm_size: 1g}}\n'
    )
    volumes = pod(one(conversion, "Deployment", "web"))["volumes"]
    assert volumes[0]["emptyDir"] == {"medium": "Memory", "sizeLimit": "64Mi"}
    assert volumes[1] == {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}}


# -- container ------------------------------------------------------------------------


def test_dollars_stay_literal_in_env_and_command(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path,
        """
        services:
          web:
            image: app
            environment: {SHELL_VAR: "$$HOME", SUBST: "$$(date)", PLAIN: "a$$$$b", UNSET: null}
            entrypoint: ["/bin/sh", "-c"]
            command: ["echo $$HOME $$(id -u)"]
        """,
    )
    container = main_container(one(conversion, "Deployment", "web"))
    env = {e["name"]: e["value"] for e in container["env"]}
    # the kubelet reduces "$$" to "$" and expands "$(VAR)": what it hands over is compose's value
    assert env == {"SHELL_VAR": "$HOME", "SUBST": "$$(date)", "PLAIN": "a$$$b"}
    assert container["command"] == ["/bin/sh", "-c"]
    assert container["args"] == ["echo $HOME $$(id -u)"]


def test_env_file_is_folded_with_compose_precedence(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path,
        "services: {web: {image: app, env_file: [app.env], environment: {A: from-environment}}}\n",
        files={"app.env": "A=from-file\nB=from-file\n"},
    )
    env = {
        e["name"]: e["value"] for e in main_container(one(conversion, "Deployment", "web"))["env"]
    }
    assert env == {"A": "from-environment", "B": "from-file"}


def test_security_settings_become_security_contexts(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path,
        """
        services:
          web:
            image: app
            user: "1000:2000"
            group_add: ["3000"]
            cap_add: [NET_ADMIN]
            cap_drop: [ALL]
            read_only: true
            security_opt: ["no-new-privileges:true"]
            sysctls: {net.ipv4.ip_unprivileged_port_start: 0}
        """,
    )
    web = one(conversion, "Deployment", "web")
    assert main_container(web)["securityContext"] == {
        "runAsUser": 1000,
        "runAsGroup": 2000,
        "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]},
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
    }
    assert pod(web)["securityContext"] == {
        "supplementalGroups": [3000],
        "sysctls": [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}],
    }
    assert [w for w in conversion.warnings if "no port is known" not in w] == []


def test_pod_level_settings(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path,
        """
        services:
          web:
            image: app
            hostname: web1
            init: true
            platform: linux/arm64/v8
            stop_grace_period: 1m
            extra_hosts: ["db.local:10.0.0.5", "cache.local:10.0.0.5"]
            dns: [1.1.1.1]
            working_dir: /srv
            tty: true
            stdin_open: true
        """,
    )
    web = one(conversion, "Deployment", "web")
    spec = pod(web)
    assert spec["hostname"] == "web1"
    assert spec["shareProcessNamespace"] is True
    assert spec["nodeSelector"] == {"kubernetes.io/os": "linux", "kubernetes.io/arch": "arm64"}
    assert spec["terminationGracePeriodSeconds"] == 60
    assert spec["hostAliases"] == [{"ip": "10.0.0.5", "hostnames": ["db.local", "cache.local"]}]
    assert spec["dnsConfig"] == {"nameservers": ["1.1.1.1"]}
    assert spec["enableServiceLinks"] is False
    container = main_container(web)
    assert (container["workingDir"], container["tty"], container["stdin"]) == ("/srv", True, True)


def test_a_built_service_gets_the_project_image_name_and_a_warning(tmp_path) -> None:
    conversion = convert_stack(tmp_path, "name: demo\nservices: {api: {build: .}}\n")
    assert main_container(one(conversion, "Deployment", "api"))["image"] == "demo-api:latest"
    assert warnings_about(conversion, 'is built, not pulled: push "demo-api:latest"')


def test_labels_become_pod_annotations(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path, "services: {web: {image: app, labels: {com.example.team: web}}}\n"
    )
    template = one(conversion, "Deployment", "web")["spec"]["template"]
    assert template["metadata"]["annotations"] == {"com.example.team": "web"}


# -- networks, namespace, selection ---------------------------------------------------

NETWORKS = """
services:
  web: {image: nginx, ports: ["8080:80"], networks: [front]}
  api: {image: app, expose: ["8000"], networks: [front, back]}
  db: {image: postgres, expose: ["5432"], networks: [back]}
networks: {front: {}, back: {}}
"""


def test_no_network_policies_without_the_flag(tmp_path) -> None:
    conversion = convert_stack(tmp_path, NETWORKS)
    assert objects(conversion, "NetworkPolicy") == []
    assert warnings_about(conversion, '"back", "front" are not isolated in Kubernetes')


def test_network_policies_admit_only_network_peers(tmp_path) -> None:
    conversion = convert_stack(tmp_path, NETWORKS, network_policies=True)
    back = one(conversion, "NetworkPolicy", "back-network")
    members = back["spec"]["podSelector"]["matchLabels"]
    assert members["network.pycompose.io/back"] == "true"
    assert back["spec"]["ingress"] == [{"from": [{"podSelector": {"matchLabels": members}}]}]
    db_labels = one(conversion, "Deployment", "db")["spec"]["template"]["metadata"]["labels"]
    assert db_labels["network.pycompose.io/back"] == "true"
    assert "network.pycompose.io/front" not in db_labels
    published = one(conversion, "NetworkPolicy", "web-published")
    assert published["spec"]["ingress"] == [{"ports": [{"port": 80, "protocol": "TCP"}]}]


def test_namespace_goes_on_every_object(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path,
        "services: {web: {image: app, volumes: ['data:/d']}}\nvolumes: {data: {}}\n",
        namespace="team-a",
    )
    assert {o["metadata"].get("namespace") for o in conversion.objects} == {"team-a"}


def test_named_services_bring_their_dependencies(tmp_path) -> None:
    conversion = convert_stack(
        tmp_path,
        """
        services:
          web: {image: nginx, depends_on: [api]}
          api: {image: app, depends_on: [db]}
          db: {image: postgres}
          other: {image: app}
        """,
        services=("api",),
    )
    assert sorted(o["metadata"]["name"] for o in objects(conversion, "Deployment")) == ["api", "db"]

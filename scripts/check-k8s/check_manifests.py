#!/usr/bin/env python3
"""Checks k8s/ against the code, offline: run by scripts/check-k8s.sh, which provides the tools.

For every variant (each overlay, and the prod overlay with every optional component added):
  1. `kubectl kustomize` renders it;
  2. every object passes strict schema validation (unknown fields are errors) for each Kubernetes
     version from 1.30 to the newest kubernetes-validate ships; the custom resources (ServiceMonitor, PrometheusRule, ScaledObject)
     against crd-schemas/ (the fields we use from those CRDs, strict);
  3. every mediabot container's args and environment variables are ones its binary accepts, read from the
     binary's own `--help` (clap prints each flag with `[env: NAME=]` and `[default: ...]`);
  4. every containerPort, probe port, Service targetPort and prometheus.io/port is a port the binary
     listens on: the value of one of its `*_LISTEN` flags as the manifest sets it (env or args) or by
     default, and not on loopback;
  5. references resolve: Services, HPAs, ScaledObjects, PDBs select or name workloads that exist;
     ServiceMonitors and Ingresses name Service ports that exist;
  6. every image names a Dockerfile target that builds that binary and runs it as the pods' user;
  7. every `mediabot_*` metric in the alert rules and the Grafana dashboard is defined in crates/ or
     services/ (so the dashboards cannot drift from the code).

Usage: check_manifests.py --kubectl PATH --bin-dir DIR --repo DIR
Prints one line per problem and ends with "check-k8s: N passed, N failed"; exits 1 if any failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import dockerfile
import jsonschema
import yaml
from kubernetes_validate import utils as kv

BINARIES = ("billing", "gateway", "imaging", "speech", "documents", "generation", "telegram-sandbox",
            "provider-sandbox")
# Environment variables a binary reads outside its clap flags.
EXTRA_ENV = {
    "RUST_LOG": "tracing's EnvFilter (service-runtime telemetry, provider-sandbox); telegram-sandbox ignores it",
}
LOOPBACK = ("127.", "localhost", "[::1]")
# Components that stand in for the outside world (Telegram, the AI providers) in dev: never added to prod.
DEV_ONLY_COMPONENTS = ("telegram-sandbox", "provider-sandbox")
PENDING = "check-k8s.mediabot/pending"
CRD_SCHEMAS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor-monitoring-v1.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrule-monitoring-v1.json",
    ("keda.sh/v1alpha1", "ScaledObject"): "scaledobject-keda-v1alpha1.json",
}
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job")
# Schemas from this version to the newest kubernetes-validate ships (1.30: the oldest release the big
# managed offerings still ran in 2026; gRPC probes are GA since 1.27).
OLDEST_KUBERNETES = (1, 30, 0)


# ----------------------------------------------------------------------------------------------------
# The binaries' command lines, from --help


@dataclass
class Flag:
    long: str
    env: str | None
    default: str | None
    takes_value: bool


@dataclass
class Cli:
    """One command's flags (a binary, or one of its subcommands)."""

    flags: dict[str, Flag] = field(default_factory=dict)
    positionals: int = 0
    subcommands: dict[str, "Cli"] = field(default_factory=dict)

    def by_env(self) -> dict[str, Flag]:
        return {f.env: f for f in self.flags.values() if f.env}


HEADER = re.compile(r"^\s{2,}(?:-[A-Za-z0-9], )?--([a-z0-9][a-z0-9-]*)(.*)$")
SECTION = re.compile(r"^\S")
ENV = re.compile(r"\[env: ([A-Z0-9_]+)(?:=[^\]]*)?\]")
DEFAULT = re.compile(r"\[default: ([^\]]*)\]")


def run_help(binary: Path, args: list[str]) -> str:
    # A clean environment: --help prints the values of variables that are set.
    env = {"PATH": "/usr/bin:/bin", "NO_COLOR": "1"}
    out = subprocess.run([str(binary), *args, "--help"], capture_output=True, text=True, env=env, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"{binary} {' '.join(args)} --help exited {out.returncode}: {out.stderr.strip()}")
    return out.stdout


def parse_help(text: str) -> tuple[Cli, list[str]]:
    cli = Cli()
    subcommands: list[str] = []
    section = ""
    block: list[str] = []

    def close() -> None:
        if not block:
            return
        m = HEADER.match(block[0])
        assert m
        long, rest = m.group(1), m.group(2)
        text = " ".join(line.strip() for line in block)
        env = ENV.search(text)
        default = DEFAULT.search(text)
        # `--flag <VALUE>` or `--flag[=<VALUE>]`: takes a value; a bare `--flag`: a switch.
        takes_value = rest.lstrip().startswith("<") or rest.startswith("[=")
        cli.flags[long] = Flag(long, env.group(1) if env else None, default.group(1) if default else None, takes_value)
        block.clear()

    for line in text.splitlines():
        if SECTION.match(line):
            close()
            section = line.strip().rstrip(":")
            continue
        if section == "Commands":
            m = re.match(r"^\s{2}([a-z0-9][a-z0-9-]*)\s", line + " ")
            if m and m.group(1) != "help":
                subcommands.append(m.group(1))
            continue
        if section == "Arguments":
            if re.match(r"^\s{2}[<\[]", line):
                cli.positionals += 1
            continue
        if HEADER.match(line):
            close()
            block.append(line)
        elif block:
            block.append(line)
    close()
    return cli, subcommands


def load_cli(binary: Path) -> Cli:
    cli, subs = parse_help(run_help(binary, []))
    for sub in subs:
        cli.subcommands[sub], _ = parse_help(run_help(binary, [sub]))
    return cli


# ----------------------------------------------------------------------------------------------------
# Rendering and schema validation


def render(kubectl: str, path: Path) -> list[dict]:
    out = subprocess.run([kubectl, "kustomize", str(path)], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {path} failed:\n{out.stderr}")
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def variants(repo: Path, tmp: Path) -> dict[str, Path]:
    """Each overlay, and prod with every optional component but the dev-only sandboxes added to its
    `components:` (in a copy of k8s/, so the overlay's transformers, such as `images:`, apply to what the
    components add, as they would for a user who adds them there)."""
    k8s = repo / "k8s"
    result = {p.name: p for p in sorted((k8s / "overlays").iterdir()) if (p / "kustomization.yaml").exists()}
    copy = tmp / "k8s"
    shutil.copytree(k8s, copy)
    prod = copy / "overlays" / "prod"
    kustomization = yaml.safe_load((prod / "kustomization.yaml").read_text())
    used = {(prod / c).resolve() for c in kustomization.get("components", [])}
    extra = [c for c in sorted((copy / "components").iterdir())
             if (c / "kustomization.yaml").exists() and c.resolve() not in used and c.name not in DEV_ONLY_COMPONENTS]
    kustomization["components"] = kustomization.get("components", []) + [os.path.relpath(c, prod) for c in extra]
    (prod / "kustomization.yaml").write_text(yaml.safe_dump(kustomization, sort_keys=False))
    result["prod+" + "+".join(c.name for c in extra)] = prod
    return result


def name_of(doc: dict) -> str:
    return f"{doc['kind']}/{doc['metadata']['name']}"


class Report:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0
        self.pending = 0

    def check(self, ok: bool, where: str, message: str) -> bool:
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL {where}: {message}")
        return ok


def validate_schemas(docs: list[dict], variant: str, crd_dir: Path, report: Report) -> None:
    versions = sorted({v for v in kv.all_versions() if tuple(map(int, v.split("."))) >= OLDEST_KUBERNETES},
                      key=lambda v: tuple(map(int, v.split("."))))
    crd = {key: json.loads((crd_dir / file).read_text()) for key, file in CRD_SCHEMAS.items()}
    for doc in docs:
        where = f"{variant} {name_of(doc)}"
        key = (doc.get("apiVersion"), doc.get("kind"))
        if key in crd:
            errors = sorted(jsonschema.Draft202012Validator(crd[key]).iter_errors(doc), key=str)
            report.check(not errors, where, "; ".join(
                f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors[:3]))
            continue
        for version in versions:
            try:
                kv.validate(doc, version, strict=True)
                report.check(True, where, "")
            except kv.ValidationError as e:
                report.check(False, where, f"Kubernetes {e.version}: {'.'.join(map(str, e.path))}: {e.message}")
            except kv.SchemaNotFoundError as e:
                report.check(False, where, f"no schema: {e.message}")


# ----------------------------------------------------------------------------------------------------
# Containers against their binaries


def binary_of(image: str) -> str | None:
    base = image.rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0]
    return base if base in BINARIES else None


def pod_templates(docs: list[dict]):
    for doc in docs:
        if doc["kind"] in WORKLOADS:
            yield doc, doc["spec"]["template"]


def container_env(container: dict, docs: list[dict], where: str, report: Report) -> dict[str, str | None]:
    """Names and (where known) values of a container's environment, envFrom resolved in the render."""
    env: dict[str, str | None] = {}
    by_name = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    for source in container.get("envFrom", []):
        for kind, ref in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            if ref in source:
                name = source[ref]["name"]
                obj = by_name.get((kind, name))
                if report.check(obj is not None, where, f"envFrom {kind} {name} is not in the manifests, so its keys "
                                "cannot be checked; name the variables in env with secretKeyRef instead"):
                    for key, value in (obj.get("data") or {}).items():
                        env[source.get("prefix", "") + key] = value if kind == "ConfigMap" else None
    for item in container.get("env", []):
        env[item["name"]] = item.get("value")
    return env


def listen_ports(cli: Cli, args: list[str], env: dict[str, str | None], where: str, report: Report) -> dict[int, str]:
    """Ports the binary listens on with this configuration: {port: flag}."""
    ports: dict[int, str] = {}
    for flag in cli.flags.values():
        if not (flag.long.endswith("listen") or (flag.env or "").endswith("_LISTEN")):
            continue
        value = flag.default
        if flag.env and flag.env in env and env[flag.env] is not None:
            value = env[flag.env]
        for i, arg in enumerate(args):
            if arg == f"--{flag.long}" and i + 1 < len(args):
                value = args[i + 1]
            elif arg.startswith(f"--{flag.long}="):
                value = arg.split("=", 1)[1]
        if not value:
            continue
        host, _, port = value.rpartition(":")
        if not port.isdigit():
            report.check(False, where, f"--{flag.long} = {value!r} is not HOST:PORT")
            continue
        ports[int(port)] = f"--{flag.long} ({host}:{port})"
        if any(host.startswith(p) for p in LOOPBACK):
            ports[int(port)] += " LOOPBACK"
    return ports


def check_command_line(cli: Cli, binary: str, container: dict, env: dict, where: str, report: Report) -> Cli:
    """The container's args and env names against the binary's flags; returns the command that runs."""
    if "command" in container:
        report.check(False, where, "sets `command`; the image's ENTRYPOINT is the binary, use `args`")
    args = list(container.get("args", []))
    command = cli
    if args and not args[0].startswith("-"):
        sub = args.pop(0)
        if not report.check(sub in cli.subcommands, where, f"`{binary} {sub}`: no such subcommand "
                            f"(has: {', '.join(cli.subcommands) or 'none'})"):
            return cli
        command = cli.subcommands[sub]
    positionals = 0
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("--"):
            name = arg[2:].split("=", 1)[0]
            flag = command.flags.get(name)
            if report.check(flag is not None, where, f"{binary}: no flag --{name} (`{binary} --help`)"):
                if flag.takes_value and "=" not in arg:
                    i += 1
        else:
            positionals += 1
        i += 1
    report.check(positionals <= command.positionals, where,
                 f"{positionals} positional argument(s), {binary} takes {command.positionals}")
    # The top-level command's variables are read whatever subcommand runs (clap fills its args from the
    # environment too); its flags, though, go before the subcommand.
    envs = {**cli.by_env(), **command.by_env()}
    for name in env:
        report.check(name in envs or name in EXTRA_ENV, where,
                     f"env {name}: not a variable {binary} reads (`{binary} --help` lists [env: ...])")
    return command


def resolve_port(container: dict, port) -> int | None:
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    for p in container.get("ports", []):
        if p.get("name") == port:
            return p["containerPort"]
    return None


def check_containers(docs: list[dict], clis: dict[str, Cli], variant: str, report: Report,
                     served: dict[tuple[str, str], dict[int, str]]) -> set[str]:
    """Checks every mediabot container; fills `served` with {(workload, container): ports}."""
    images = set()
    for workload, template in pod_templates(docs):
        spec = template["spec"]
        for kind in ("initContainers", "containers"):
            for container in spec.get(kind, []):
                where = f"{variant} {name_of(workload)} container {container['name']}"
                binary = binary_of(container["image"])
                declared = {p["containerPort"] for p in container.get("ports", [])}
                if binary is None:
                    # Third-party images (NATS, PostgreSQL): their declared ports are what they serve.
                    served[(name_of(workload), container["name"])] = {p: "declared" for p in declared}
                    continue
                images.add(binary)
                if binary not in clis:
                    report.check(False, where, f"{binary} is not built, so its command line is not checked")
                    continue
                env = container_env(container, docs, where, report)
                command = check_command_line(clis[binary], binary, container, env, where, report)
                ports = listen_ports(command, container.get("args", []), env, where, report)
                served[(name_of(workload), container["name"])] = ports
                for port in sorted(declared):
                    if report.check(port in ports, where, f"containerPort {port}: {binary} does not listen there "
                                    f"(it listens on {sorted(ports) or 'nothing'})"):
                        report.check("LOOPBACK" not in ports[port], where,
                                     f"port {port} is {ports[port]}: unreachable from outside the pod")
                for probe_kind in ("startupProbe", "readinessProbe", "livenessProbe"):
                    probe = container.get(probe_kind)
                    if not probe:
                        continue
                    for handler in ("grpc", "httpGet", "tcpSocket"):
                        if handler in probe:
                            port = resolve_port(container, probe[handler]["port"])
                            report.check(port in ports, where, f"{probe_kind} {handler} port "
                                         f"{probe[handler]['port']}: {binary} does not listen there "
                                         f"(it listens on {sorted(ports) or 'nothing'})")
                annotations = template.get("metadata", {}).get("annotations", {})
                if "prometheus.io/port" in annotations and kind == "containers":
                    port = int(annotations["prometheus.io/port"])
                    report.check(port in ports, where, f"prometheus.io/port {port}: not a port {binary} listens on")
    return images


# ----------------------------------------------------------------------------------------------------
# References between objects


def selects(selector: dict, labels: dict) -> bool:
    if "matchLabels" in selector or "matchExpressions" in selector:
        if selector.get("matchExpressions"):
            return False  # not used by our manifests; make it fail loudly if someone adds one
        selector = selector.get("matchLabels", {})
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def check_references(docs: list[dict], variant: str, report: Report,
                     served: dict[tuple[str, str], dict[int, str]]) -> None:
    workloads = {name_of(d): d for d in docs if d["kind"] in WORKLOADS}
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    for svc in services.values():
        where = f"{variant} Service/{svc['metadata']['name']}"
        if PENDING in svc["metadata"].get("annotations", {}):
            report.pending += 1
            print(f"PENDING {where}: not checked against the binary ({svc['metadata']['annotations'][PENDING]})")
            continue
        pods = [w for w in workloads.values() if selects(svc["spec"]["selector"], w["spec"]["template"]["metadata"]["labels"])]
        if not report.check(bool(pods), where, "selects no pods"):
            continue
        for port in svc["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            for w in pods:
                found = False
                for c in w["spec"]["template"]["spec"]["containers"]:
                    number = resolve_port(c, target)
                    if number is not None and number in served.get((name_of(w), c["name"]), {}):
                        found = True
                report.check(found, where, f"port {port.get('name', port['port'])} -> {target}: "
                             f"no container of {name_of(w)} listens there")
    for doc in docs:
        where = f"{variant} {name_of(doc)}"
        if doc["kind"] == "HorizontalPodAutoscaler":
            ref = doc["spec"]["scaleTargetRef"]
            report.check(f"{ref['kind']}/{ref['name']}" in workloads, where, f"scales {ref['kind']}/{ref['name']}, not in the manifests")
        elif doc["kind"] == "ScaledObject":
            ref = doc["spec"]["scaleTargetRef"]
            report.check(f"{ref.get('kind', 'Deployment')}/{ref['name']}" in workloads, where, f"scales {ref['name']}, not in the manifests")
        elif doc["kind"] == "PodDisruptionBudget":
            report.check(any(selects(doc["spec"]["selector"], w["spec"]["template"]["metadata"]["labels"])
                             for w in workloads.values()), where, "selects no pods")
        elif doc["kind"] == "ServiceMonitor":
            chosen = [s for s in services.values() if selects(doc["spec"]["selector"], s["metadata"].get("labels", {}))]
            if report.check(bool(chosen), where, "selects no Service"):
                for ep in doc["spec"]["endpoints"]:
                    report.check(any(p.get("name") == ep["port"] for s in chosen for p in s["spec"]["ports"]),
                                 where, f"no selected Service has a port named {ep['port']}")
        elif doc["kind"] == "Ingress":
            for rule in doc["spec"].get("rules", []):
                for path in rule.get("http", {}).get("paths", []):
                    backend = path["backend"]["service"]
                    svc = services.get(backend["name"])
                    if report.check(svc is not None, where, f"backend Service {backend['name']} is not in the manifests"):
                        port = backend["port"]
                        report.check(any(p.get("name") == port.get("name") or p["port"] == port.get("number")
                                         for p in svc["spec"]["ports"]), where, f"Service {backend['name']} has no port {port}")
        elif doc["kind"] in WORKLOADS:
            spec = doc["spec"]["template"]["spec"]
            claims = {v["persistentVolumeClaim"]["claimName"] for v in spec.get("volumes", []) if "persistentVolumeClaim" in v}
            pvcs = {d["metadata"]["name"] for d in docs if d["kind"] == "PersistentVolumeClaim"}
            for claim in claims:
                report.check(claim in pvcs, where, f"mounts PersistentVolumeClaim {claim}, not in the manifests")


# ----------------------------------------------------------------------------------------------------
# The Dockerfile


def check_dockerfile(repo: Path, images: set[str], docs_by_variant: dict[str, list[dict]], report: Report) -> None:
    where = "Dockerfile"
    commands = dockerfile.parse_file(str(repo / "Dockerfile"))
    stages: dict[str, list] = {}
    current = None
    for cmd in commands:
        if cmd.cmd == "FROM":
            value = [v for v in cmd.value]
            current = value[2] if len(value) >= 3 and value[1].upper() == "AS" else None
            stages[current] = []
        elif current is not None:
            stages[current].append(cmd)
    build = " ".join(" ".join(c.value) for c in stages.get("builder", []) if c.cmd == "RUN")
    report.check("GGML_NATIVE=OFF" in " ".join(" ".join(c.value) for c in stages.get("builder", []) if c.cmd == "ENV")
                 or "GGML_NATIVE OFF" in " ".join(" ".join(c.value) for c in stages.get("builder", []) if c.cmd == "ENV"),
                 where, "the builder stage must set GGML_NATIVE=OFF (whisper.cpp otherwise builds for the build machine's CPU)")
    user = next((" ".join(c.value) for c in stages.get("runtime", []) if c.cmd == "USER"), "")
    for binary in sorted(images):
        stage = stages.get(binary)
        if not report.check(stage is not None, where, f"no target `{binary}` for image mediabot/{binary}"):
            continue
        entry = next((c for c in stage if c.cmd == "ENTRYPOINT"), None)
        report.check(entry is not None and entry.json and list(entry.value) == [f"/usr/local/bin/{binary}"], where,
                     f"target {binary}: ENTRYPOINT must be [\"/usr/local/bin/{binary}\"]")
        report.check(f"--bin {binary}" in build, where, f"the builder does not build --bin {binary}")
    uid = user.split(":")[0]
    for variant, docs in docs_by_variant.items():
        for workload, template in pod_templates(docs):
            if not any(binary_of(c["image"]) for c in template["spec"]["containers"]):
                continue
            run_as = str(template["spec"].get("securityContext", {}).get("runAsUser", ""))
            report.check(run_as == uid, f"{variant} {name_of(workload)}",
                         f"runAsUser {run_as or 'unset'}, the images' USER is {uid or 'unset'}")


# ----------------------------------------------------------------------------------------------------
# Metric names in alerts and dashboards


METRIC = re.compile(r"\bmediabot_[a-z0-9_]*[a-z0-9]")
# What metrics_process::Collector records (metrics-process 2.4), after its prefix.
PROCESS_METRICS = {
    "process_cpu_seconds_total", "process_open_fds", "process_max_fds", "process_virtual_memory_bytes",
    "process_virtual_memory_max_bytes", "process_resident_memory_bytes", "process_start_time_seconds",
    "process_threads",
}


def check_metrics(repo: Path, docs: list[dict], report: Report) -> None:
    used: dict[str, str] = {}
    for doc in docs:
        if doc["kind"] == "PrometheusRule":
            for group in doc["spec"].get("groups", []):
                for rule in group["rules"]:
                    for m in METRIC.findall(str(rule["expr"])):
                        used.setdefault(m, f"PrometheusRule {rule.get('alert') or rule.get('record')}")
    dashboards = sorted((repo / "k8s").rglob("dashboards/*.json"))
    for path in dashboards:
        text = path.read_text()
        json.loads(text)
        for m in METRIC.findall(text):
            used.setdefault(m, str(path.relative_to(repo)))
    sources = "\n".join(p.read_text(errors="replace") for top in ("crates", "services")
                        for p in (repo / top).rglob("*.rs"))
    # The process metrics come from the metrics-process crate, named there with our prefix.
    process = PROCESS_METRICS if "metrics_process::Collector::new(PREFIX)" in sources else set()
    for metric in sorted(used):
        base = re.sub(r"_(bucket|sum|count)$", "", metric)
        short = base[len("mediabot_"):]
        defined = f'"{base}"' in sources or f'"{short}"' in sources or short in process
        report.check(defined, used[metric], f"metric {metric}: not defined in crates/ or services/")


# ----------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubectl", required=True)
    parser.add_argument("--bin-dir", required=True, type=Path)
    parser.add_argument("--repo", required=True, type=Path)
    args = parser.parse_args()
    report = Report()

    clis = {}
    for binary in BINARIES:
        path = args.bin_dir / binary
        if not path.exists():
            print(f"FAIL {path}: missing; build the binaries first (cargo build --bins)")
            report.failed += 1
            continue
        clis[binary] = load_cli(path)

    rendered: dict[str, list[dict]] = {}
    images: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        for variant, path in variants(args.repo, Path(tmp)).items():
            try:
                docs = render(args.kubectl, path)
            except RuntimeError as e:
                report.check(False, variant, str(e))
                continue
            rendered[variant] = docs
            kinds: dict[str, int] = {}
            for d in docs:
                kinds[d["kind"]] = kinds.get(d["kind"], 0) + 1
            print(f"{variant}: {len(docs)} objects (" + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) + ")")
            validate_schemas(docs, variant, Path(__file__).parent / "crd-schemas", report)
            served: dict[tuple[str, str], dict[int, str]] = {}
            images |= check_containers(docs, clis, variant, report, served)
            check_references(docs, variant, report, served)
    check_dockerfile(args.repo, images, rendered, report)
    check_metrics(args.repo, [d for docs in rendered.values() for d in docs], report)
    if report.pending:
        print(f"{report.pending} object(s) pending (annotated {PENDING}), not checked")
    print(f"check-k8s: {report.passed} passed, {report.failed} failed")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m devcluster up|down|status|logs COMPONENT|env|build|images`."""

from __future__ import annotations

import argparse
import json
import sys

from devcluster import build, cluster, images, kubeadm, paths, processes, registry
from devcluster.errors import ClusterError

EVERY_COMPONENT = tuple(
    dict.fromkeys((*cluster.COMPONENTS, *kubeadm.CONTROL_PLANE, *registry.PROCESSES))
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="devcluster", description="A local single-node Kubernetes cluster."
    )
    # Also accepted after the command (`up --release 1.21`), where people put it.
    release_help = f"which cluster: {', '.join(paths.RELEASES)} (default {paths.DEFAULT_RELEASE})"
    parser.add_argument("--release", choices=paths.RELEASES, help=release_help)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--release", choices=paths.RELEASES, default=argparse.SUPPRESS, help=release_help
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], help=help)

    up = add("up", help="build if needed, boot, wait until the node is Ready")
    up.add_argument("--no-build", action="store_true", help="use the binaries already built")
    add("down", help="stop every process started by up; remove their mounts")
    st = add("status", help="which components run; exit 0 only when Ready")
    st.add_argument("-o", "--output", choices=("json",))
    logs = add("logs", help="print a component's log")
    logs.add_argument("component", choices=EVERY_COMPONENT)
    logs.add_argument("--tail", type=int, default=0, help="only the last N lines")
    add("env", help="print `export KUBECONFIG=...`")
    demo = add("demo-pod", help="create a running distroless-style Pod to debug")
    demo.add_argument("--namespace", default="podscope-demo")
    demo.add_argument("--name", default="app")
    for verb in ("stop", "start", "restart"):
        one = add(verb, help=f"{verb} one component (for fault tests)")
        one.add_argument("component", choices=(*cluster.COMPONENTS, *registry.PROCESSES))
        one.epilog = "On 1.21 only containerd, etcd and kubelet are processes (`restart kubelet`)."
    b = add("build", help="build the Kubernetes binaries and etcd")
    b.add_argument("--force", action="store_true", help="rebuild even when up to date")
    add("images", help="build the images and import the missing ones")
    add(
        "registry",
        help="start the image registries, push the images, point containerd at them "
        "(only what is missing; a running cluster is not restarted)",
    )
    args = parser.parse_args(argv)
    paths.select(args.release or paths.DEFAULT_RELEASE)
    if args.command in ("stop", "start", "restart", "logs") and (
        args.component not in (*cluster.components(), *registry.PROCESSES)
        and not (args.command == "logs" and paths.RELEASE.kubeadm_shaped)
    ):
        parser.error(
            f"{args.component} is not a process of the {paths.RELEASE.name} cluster "
            f"(processes: {', '.join(cluster.components())})"
        )

    try:
        if args.command == "up":
            cluster.up(build_first=not args.no_build)
        elif args.command == "down":
            cluster.down()
        elif args.command == "status":
            state = cluster.status()
            if args.output == "json":
                print(json.dumps(state, indent=2))
            else:
                for name, pid in state["components"].items():
                    print(f"{name:26} {'running pid ' + str(pid) if pid else 'stopped'}")
                print(
                    f"{'node ' + paths.NODE_NAME:26} {'Ready' if state['ready'] else 'not ready'}"
                    f" (Kubernetes {paths.KUBERNETES_VERSION})"
                )
            return 0 if state["ready"] else 1
        elif args.command == "logs":
            if args.component in kubeadm.CONTROL_PLANE and paths.RELEASE.kubeadm_shaped:
                log = kubeadm.static_pod_log(args.component)
                if log is None:
                    print(f"devcluster: no {args.component} container log yet", file=sys.stderr)
                    return 1
                lines = log.read_text(errors="replace").splitlines()
                print("\n".join(lines[-args.tail :] if args.tail else lines))
            elif args.tail:
                print(processes.tail(args.component, args.tail))
            else:
                sys.stdout.write(processes.log_path(args.component).read_text(errors="replace"))
        elif args.command in ("stop", "restart"):
            cluster.stop_component(args.component)
            if args.command == "restart":
                cluster.start_component(args.component)
        elif args.command == "start":
            cluster.start_component(args.component)
        elif args.command == "demo-pod":
            cluster.demo_pod(args.namespace, args.name)
        elif args.command == "env":
            print(f"export KUBECONFIG={paths.ADMIN_KUBECONFIG}")
        elif args.command == "build":
            seconds = build.build(force=args.force)
            print(
                f"devcluster: build: {seconds:.1f}s"
                if seconds
                else "devcluster: binaries up to date"
            )
        elif args.command == "registry":
            cluster.install_packages()
            cluster.ensure_registries()
            addresses = ", ".join(r.address for r in registry.registries())
            print(f"devcluster: registries up: {addresses}")
        elif args.command == "images":
            print("imported:", ", ".join(images.import_all()) or "nothing (all present)")
    except ClusterError as exc:
        print(exc.render(), file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"devcluster: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""python -m localservices up|down PROFILE   (the test harness's servers)
python -m localservices run|stop           (make run / make stop: a working node)"""
import argparse
import sys

from localservices.node import PROFILES, services_down, services_up
from localservices.process import ServiceError
from localservices.stack import node_down, node_up, print_welcome


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m localservices")
    parser.add_argument("action", choices=["up", "down", "run", "stop"])
    parser.add_argument("profile", nargs="?", choices=sorted(PROFILES), default="primary")
    args = parser.parse_args()
    profile = PROFILES[args.profile]
    try:
        if args.action == "up":
            env_file = services_up(profile)
            print(f"{profile.name}: MariaDB on 127.0.0.1:{profile.mariadb_port}, "
                  f"Redis on 127.0.0.1:{profile.redis_port}, env file {env_file}")
        elif args.action == "down":
            services_down(profile)
            print(f"{profile.name}: stopped")
        elif args.action == "run":
            node_up(profile)
            print_welcome(profile)
        else:
            node_down(profile)
            print(f"{profile.name}: stopped")
    except ServiceError as exc:
        print(f"localservices: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

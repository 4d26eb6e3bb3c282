"""python -m localservices up|down test   (the test suite's own servers)
python -m localservices run|stop          (make run / make stop: the local HA pair)"""
import argparse
import sys

from localservices.node import PROFILES, services_down, services_up
from localservices.process import ServiceError
from localservices.stack import default_pair, pair_down, pair_up, print_welcome


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m localservices")
    parser.add_argument("action", choices=["up", "down", "run", "stop"])
    parser.add_argument("profile", nargs="?", choices=sorted(PROFILES), default="test")
    args = parser.parse_args()
    try:
        if args.action == "up":
            profile = PROFILES[args.profile]
            env_file = services_up(profile)
            print(f"{profile.name}: MariaDB on 127.0.0.1:{profile.mariadb_port}, "
                  f"Redis on 127.0.0.1:{profile.redis_port}, env file {env_file}")
        elif args.action == "down":
            services_down(PROFILES[args.profile])
            print(f"{args.profile}: stopped")
        elif args.action == "run":
            pair_up(*default_pair())
            print_welcome(*default_pair())
        else:
            pair_down(*default_pair())
            print("primary and secondary: stopped")
    except ServiceError as exc:
        print(f"localservices: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

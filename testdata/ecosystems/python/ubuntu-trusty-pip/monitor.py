import time

import requests


def main():
    while True:
        requests.get("http://localhost:8080/healthz", timeout=5)
        time.sleep(30)


if __name__ == "__main__":
    main()

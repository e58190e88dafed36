import time

while True:
    print("tick", flush=True)
    time.sleep(30)

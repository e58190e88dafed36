import time

while True:
    print("polling the queue", flush=True)
    time.sleep(10)

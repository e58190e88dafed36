import subprocess

subprocess.run(["git", "pull"], check=True)

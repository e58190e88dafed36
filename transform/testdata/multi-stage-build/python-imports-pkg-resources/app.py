from importlib import resources

import pkg_resources

print(pkg_resources.get_distribution("wheel").version, resources.files(__name__))

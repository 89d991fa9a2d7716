# The lockstep plugin: options (--contract, --legacy-url, --gateway-url, --profile, --demo-faults ...),
# fixtures (lockstep, parity_check ...) and reports. See README.md.
pytest_plugins = ["lockstep.pytest_plugin"]

# Convenience targets; the build itself is CMake (README "Build").
#   make test    the README's test command (scripts/test.sh): what CI runs
#   make soak    the long fault runs outside CI (scripts/soak.sh), report in reports/
.PHONY: test soak
test:
	bash scripts/test.sh
soak:
	bash scripts/soak.sh

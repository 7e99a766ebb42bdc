# Convenience targets; the build itself is CMake (README "Build").
#   make test    the README's test command (scripts/test.sh): what CI runs
#   make soak    the long fault runs outside CI (scripts/soak.sh), report in reports/
#   make bench   every benchmark side by side with its peers (bench/run), report in bench-report-*/
.PHONY: test soak bench
test:
	bash scripts/test.sh
soak:
	bash scripts/soak.sh
bench:
	bash bench/run

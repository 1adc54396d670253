# Delegates to the CMake build directory that ./configure created.
-include .build-dir.mk
BUILD ?= build

all:
	cmake --build $(BUILD)

install: all
	cmake --install $(BUILD)

test: all
	ctest --test-dir $(BUILD) --output-on-failure

clean:
	cmake --build $(BUILD) --target clean

.PHONY: all install test clean

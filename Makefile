# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of the ivhost modules.
#
#   make            build ivhost.ko and ivhost_net.ko
#   make W=1 C=1    the same with extra warnings and sparse
#   make check      the whole test suite (boots VMs; needs root)
#   make demo       the demo: a VM, modprobe ivhost_net, packets moving
#   make bench      ivhost against the kernel's vhost_net, side by side
#                   (boots VMs; needs root; results in tools/testing/vm/out/bench)
#
# KDIR selects the kernel build tree: the running kernel's when it has one,
# else the newest installed Debian linux-headers-*-amd64.

KDIR ?= $(shell \
	if [ -d /lib/modules/$$(uname -r)/build ]; then \
		echo /lib/modules/$$(uname -r)/build; \
	else \
		ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1; \
	fi)

PWD := $(shell pwd)

# Out of tree there is no .config: choose the modules here.  Variables
# given on the command line reach every sub-make of kbuild.
IVHOST_CONFIG := CONFIG_IVHOST=m CONFIG_IVHOST_NET=m

all: modules

modules:
	@test -n "$(KDIR)" || { echo "no kernel build tree: install linux-headers-amd64 or set KDIR=" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(PWD) $(IVHOST_CONFIG) modules

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) $(IVHOST_CONFIG) clean

check:
	tools/testing/check

demo:
	tools/testing/demo

bench:
	tools/testing/bench/run-bench $(BENCH_ARGS)

.PHONY: all modules clean check demo bench

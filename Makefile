# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of the ivhost modules.
#
#   make            build ivhost.ko and ivhost_net.ko, and ivhost-user
#   make modules    only the modules
#   make ivhost-user  only the vhost-user daemon (tools/vhost-user)
#   make W=1 C=1    the same with extra warnings and sparse
#   make check      the whole test suite (boots VMs; needs root)
#   make demo       the demo: a VM, modprobe ivhost_net, packets moving
#   make bench      every backend side by side: vhost_net, ivhost (split
#                   and packed), ivhost-user and DPDK's vhost (split and
#                   packed), three VM runs under -icount (needs root;
#                   about 45 minutes; results in tools/testing/vm/out/bench;
#                   BENCH_ARGS=--publish copies them to
#                   tools/testing/bench/results)
#   make bench-guest  a real Linux guest (nested QEMU) over TCP on
#                   vhost_net, ivhost, ivhost-user (and DPDK without a
#                   vIOMMU), without a vIOMMU and in strict, lazy and pt
#                   mode: each mode's
#                   rate as a share of the backend's no-IOMMU rate, in
#                   one VM under -icount (needs root; about 45 minutes;
#                   results in tools/testing/vm/out/bench-guest)
#   make check-qemu real QEMU guests on /dev/ivhost-net and /dev/vhost-net,
#                   without the vIOMMU and in iommu=pt, strict and lazy
#                   mode, split and packed rings (nested, long)
#   make check-vhost-user  every vhost-user selftest (ivhost-user's ASan
#                   build) and every QEMU run, pt mode included, on
#                   ivhost-user and DPDK (needs root; the test command
#                   runs a subset)
#   make check-dkms DKMS as a user would use it (in the VM, long)
#   make check-debug the whole hardening run on the debug kernel (KASAN,
#                   lockdep, kmemleak, fault injection): KUnit, every
#                   selftest, the hostile-VMM fuzzer, 200 load/unload
#                   cycles (long; the test command runs a subset)
#   make fuzz       the fuzzers for longer: libFuzzer FUZZ_SECONDS (600)
#                   per target, the hostile-frontend fuzzer on ivhost-user
#                   FUZZ_VU_SECONDS (600), the hostile-VMM fuzzer FUZZ_OPS
#                   (400000, about 35 minutes) operations on the debug
#                   kernel; FUZZ_SEED= repeats a run; then every vhost-user
#                   selftest against ivhost-user's TSan build with two
#                   datapath threads, isolation_test at 100,000 remaps
#                   (about 2 minutes; needs root)
#   make htmldocs   Documentation/ as HTML in Documentation/output/html,
#                   checked: sphinx-build -W and kernel-doc (check-docs)
#   make install    ivhost-user into $(INSTALL_MOD_PATH)/usr/local/sbin
#                   (its systemd unit ivhost-user@.service and an example
#                   config too: tools/vhost-user/README, Restarts),
#                   the modules into /lib/modules/<release>/extra (all under
#                   INSTALL_MOD_PATH if set; <release> is KDIR's), depmod,
#                   and a udev rule (/etc/udev/rules.d/60-ivhost.rules)
#                   giving /dev/ivhost-net to group kvm, mode 0660
#   make uninstall  all of that undone (ivhost-user removed too)
#   make dkms-install  the sources to /usr/src/ivhost-<version>, then
#                   dkms add, build and install, and the udev rule
#                   (dkms-uninstall: undone)
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

VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' $(PWD)/dkms.conf)
# The release the tree builds for (Debian's include/config/kernel.release
# holds the upstream version instead).
KERNELRELEASE_OF_KDIR = $(shell sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' \
	$(KDIR)/include/generated/utsrelease.h 2>/dev/null)
MODDIR = $(INSTALL_MOD_PATH)/lib/modules/$(KERNELRELEASE_OF_KDIR)/extra
UDEV_RULE = $(INSTALL_MOD_PATH)/etc/udev/rules.d/60-ivhost.rules
DKMS_SRC = $(INSTALL_MOD_PATH)/usr/src/ivhost-$(VERSION)

# Out of tree there is no .config: choose the modules here.  Variables
# given on the command line reach every sub-make of kbuild.
IVHOST_CONFIG := CONFIG_IVHOST=m CONFIG_IVHOST_NET=m

all: modules ivhost-user

ivhost-user:
	$(MAKE) -C tools/vhost-user

modules:
	@test -n "$(KDIR)" || { echo "no kernel build tree: install linux-headers-amd64 or set KDIR=" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(PWD) $(IVHOST_CONFIG) modules

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) $(IVHOST_CONFIG) clean
	$(MAKE) -C tools/vhost-user clean

check:
	tools/testing/check

demo:
	tools/testing/demo

bench:
	tools/testing/bench/run-bench $(BENCH_ARGS)

# DPDK without a vIOMMU also under the scheduling policies not chosen
BENCH_GUEST_ARGS ?= --sched-compare

bench-guest:
	tools/testing/bench/run-bench-guest $(BENCH_GUEST_ARGS)

QEMU_ARGS ?= --mode none,pt,strict,lazy --layout all --jobs 2

check-qemu:
	tools/testing/qemu/check-qemu $(QEMU_ARGS)

# every vhost-user selftest and QEMU run on both backends (the test command
# leaves out pt mode and some of DPDK's runs)
check-vhost-user: ivhost-user
	$(MAKE) -C tools/vhost-user SANITIZE=1
	IVHOST_QEMU_MIGRATE="strict strict:packed" \
		tools/testing/vhost-user/check-vhost-user --backend all --qemu \
		--sanitizer asan

check-dkms:
	tools/testing/vm/check-dkms

check-debug:
	tools/testing/vm/check-debug

htmldocs:
	tools/testing/check-docs

FUZZ_SECONDS ?= 600
FUZZ_OPS ?= 400000
FUZZ_VU_SECONDS ?= 600
fuzz:
	tools/testing/fuzz/libfuzzer/run-libfuzzer --seconds $(FUZZ_SECONDS) \
		$(if $(FUZZ_SEED),--seed $(FUZZ_SEED))
	tools/testing/fuzz/vhost-user/run-fuzz-vu --seconds $(FUZZ_VU_SECONDS) \
		--stall --daemon-arg --threads --daemon-arg 3 \
		--out tools/testing/vm/out/fuzz-vu \
		$(if $(FUZZ_SEED),--seed $(FUZZ_SEED))
	tools/testing/vm/run-vm --debug-kernel --mem 2G --timeout 14400 \
		--out tools/testing/vm/out/fuzz -- \
		$(PWD)/tools/testing/fuzz/vmm/guest-fuzz --ops $(FUZZ_OPS) \
		$(if $(FUZZ_SEED),--seed $(FUZZ_SEED))
	$(MAKE) -C tools/vhost-user SANITIZE=thread
	tools/testing/vhost-user/check-vhost-user --backend ivhost-user \
		--no-unit --sanitizer tsan --daemon-args "--threads 2" \
		--label ivhost-user-tsan --out $(PWD)/tools/testing/vm/out/fuzz/vhost-user-tsan

DEPMOD = depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) -a \
	$(KERNELRELEASE_OF_KDIR)

install: modules ivhost-user
	test -n "$(KERNELRELEASE_OF_KDIR)"
	$(MAKE) -C tools/vhost-user install DESTDIR=$(INSTALL_MOD_PATH)
	install -d $(MODDIR)
	install -m 0644 drivers/vhost/ivhost.ko drivers/vhost/ivhost_net.ko \
		$(MODDIR)/
	$(DEPMOD)
	$(MAKE) udev-rule

uninstall:
	test -n "$(KERNELRELEASE_OF_KDIR)"
	$(MAKE) -C tools/vhost-user uninstall DESTDIR=$(INSTALL_MOD_PATH)
	rm -f $(MODDIR)/ivhost.ko $(MODDIR)/ivhost_net.ko
	-rmdir $(MODDIR) 2>/dev/null
	$(DEPMOD)
	$(MAKE) udev-rule-remove

# /dev/ivhost-net to group kvm, mode 0660, as /dev/vhost-net.
udev-rule:
	install -d $(dir $(UDEV_RULE))
	printf '%s\n' '# ivhost: /dev/ivhost-net like /dev/vhost-net' \
		'KERNEL=="ivhost-net", GROUP="kvm", MODE="0660"' >$(UDEV_RULE)
	-test -n "$(INSTALL_MOD_PATH)" || udevadm control --reload 2>/dev/null

udev-rule-remove:
	rm -f $(UDEV_RULE)
	-test -n "$(INSTALL_MOD_PATH)" || udevadm control --reload 2>/dev/null

# What DKMS needs to build the modules, nothing else.
DKMS_FILES := Makefile Kbuild Kconfig dkms.conf README \
	$(wildcard drivers/vhost/Kbuild drivers/vhost/*.[ch] \
		   drivers/vhost/tests/*.[ch] include/uapi/linux/*.h)

dkms-install:
	test -n "$(VERSION)"
	rm -rf $(DKMS_SRC)
	install -d $(DKMS_SRC)
	cd $(PWD) && cp --parents $(filter-out %.mod.c,$(DKMS_FILES)) $(DKMS_SRC)/
	dkms add -m ivhost -v $(VERSION)
	dkms build -m ivhost -v $(VERSION) -k $(KERNELRELEASE_OF_KDIR)
	dkms install -m ivhost -v $(VERSION) -k $(KERNELRELEASE_OF_KDIR)
	$(MAKE) udev-rule

dkms-uninstall:
	-dkms remove -m ivhost -v $(VERSION) --all
	rm -rf $(DKMS_SRC)
	$(MAKE) udev-rule-remove

.PHONY: all modules ivhost-user clean check demo bench bench-guest check-qemu check-vhost-user check-dkms check-debug fuzz \
	htmldocs \
	install uninstall \
	udev-rule udev-rule-remove dkms-install dkms-uninstall

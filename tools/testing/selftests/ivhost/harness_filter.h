/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Run some tests of a selftest binary, not all: IVHOST_TEST.
 *
 * The kselftest_harness.h of Linux 6.1 has no option to pick a test (its
 * main() ignores argv).  Included right after it, this header replaces
 * TEST_HARNESS_MAIN with a main() that first keeps only the tests named
 * by the environment:
 *
 *   IVHOST_TEST='owned.set_owner_twice_ebusy' ./abi_test
 *   IVHOST_TEST='owned.*,running.tx_*' ./abi_test
 *   IVHOST_TEST='hostile.*.kick_*' ./hostile_test
 *
 * IVHOST_TEST is a comma-separated list of shell globs (fnmatch(3), no
 * flags, so '*' also matches '.'), each matched against the name the
 * harness prints in its "ok" lines: fixture.test, or
 * fixture.variant.test for a fixture with variants ("global" is the
 * fixture of a plain TEST()).  Unset or empty: every test runs, as
 * without this header.  A filter matching no test of the binary is a
 * mistake, not a pass: the binary prints the names it has and exits
 * with KSFT_FAIL (1) without running anything.
 *
 * IVHOST_TEST_SKIP, the same kind of list, leaves out the tests it
 * matches (after IVHOST_TEST picked its own); they are not run and not
 * reported, so the caller reports them (check-vhost-user lists the
 * documented DPDK differences this way, instead of waiting out their
 * timeouts).  It may leave no test at all.
 */
#ifndef IVHOST_SELFTEST_HARNESS_FILTER_H
#define IVHOST_SELFTEST_HARNESS_FILTER_H

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether fixture[.variant].test matches one glob of the list @pats. */
static int ivhost_filter_match(const char *pats, const char *f,
			       const char *v, const char *t)
{
	char name[512], *list, *pat, *save = NULL;
	int hit = 0;

	snprintf(name, sizeof(name), "%s%s%s.%s", f, *v ? "." : "", v, t);
	list = strdup(pats);
	if (!list)
		return 1;
	for (pat = strtok_r(list, ",", &save); pat && !hit;
	     pat = strtok_r(NULL, ",", &save))
		hit = fnmatch(pat, name, 0) == 0;
	free(list);
	return hit;
}

/*
 * Append a copy of *@item, with no successor, to the harness list whose
 * head is *@headp (a list whose head's prev is its tail); the copy.
 */
#define IVHOST_FILTER_APPEND(headp, item) ({				\
	__typeof__(item) __src = (item);				\
	__typeof__(headp) __head = (headp);				\
	__typeof__(item) __copy = malloc(sizeof(*__src));		\
									\
	if (!__copy)							\
		ksft_exit_fail_msg("out of memory\n");			\
	*__copy = *__src;						\
	__copy->next = NULL;						\
	if (!*__head) {							\
		*__head = __copy;					\
		__copy->prev = __copy;					\
	} else {							\
		__copy->prev = (*__head)->prev;				\
		(*__head)->prev->next = __copy;				\
		(*__head)->prev = __copy;				\
	}								\
	__copy;								\
})

/*
 * The tests of one fixture run with one variant (@v NULL: the fixture
 * has none) that @pats (NULL: all) keeps and @skip (NULL: none) does not
 * leave out, as a fixture of their own appended to @list.  Returns how
 * many tests matched @pats, left out or not.
 */
static unsigned int
ivhost_filter_variant(const char *pats, const char *skip,
		      struct __fixture_metadata **list,
		      struct __fixture_metadata *f,
		      struct __fixture_variant_metadata *v)
{
	struct __fixture_metadata *nf = NULL;
	struct __test_metadata *t;
	unsigned int kept = 0;
	const char *vn = v ? v->name : "";

	for (t = f->tests; t; t = t->next) {
		if (pats && !ivhost_filter_match(pats, f->name, vn, t->name))
			continue;
		kept++;
		if (skip && ivhost_filter_match(skip, f->name, vn, t->name))
			continue;
		if (!nf) {
			nf = IVHOST_FILTER_APPEND(list, f);
			nf->tests = NULL;
			nf->variant = NULL;
			if (v)
				IVHOST_FILTER_APPEND(&nf->variant, v);
		}
		IVHOST_FILTER_APPEND(&nf->tests, t);
	}
	return kept;
}

/* Print every test name of the binary, as IVHOST_TEST matches them. */
static void ivhost_filter_list(void)
{
	struct __fixture_variant_metadata none = { .name = "" }, *v;
	struct __fixture_metadata *f;
	struct __test_metadata *t;

	for (f = __fixture_list; f; f = f->next)
		for (v = f->variant ?: &none; v; v = v->next)
			for (t = f->tests; t; t = t->next)
				ksft_print_msg("  %s%s%s.%s\n", f->name,
					       *v->name ? "." : "", v->name,
					       t->name);
}

/*
 * Keep only the tests $IVHOST_TEST names, less those $IVHOST_TEST_SKIP
 * names, in the harness's lists; exit with KSFT_FAIL when IVHOST_TEST
 * names none.  Call before test_harness_run().
 */
static void ivhost_harness_filter(const char *prog)
{
	const char *pats = getenv("IVHOST_TEST");
	const char *skip = getenv("IVHOST_TEST_SKIP");
	struct __fixture_metadata *list = NULL, *f;
	struct __fixture_variant_metadata *v;
	unsigned int kept = 0;

	if (pats && !*pats)
		pats = NULL;
	if (skip && !*skip)
		skip = NULL;
	if (!pats && !skip)
		return;
	for (f = __fixture_list; f; f = f->next) {
		if (!f->variant)
			kept += ivhost_filter_variant(pats, skip, &list, f,
						      NULL);
		for (v = f->variant; v; v = v->next)
			kept += ivhost_filter_variant(pats, skip, &list, f, v);
	}
	if (pats && !kept) {
		ksft_print_msg("IVHOST_TEST='%s' matches no test of %s; it has:\n",
			       pats, prog);
		ivhost_filter_list();
		ksft_exit_fail_msg("no test selected\n");
	}
	__fixture_list = list;
}

#undef TEST_HARNESS_MAIN
#define TEST_HARNESS_MAIN \
	static void __attribute__((constructor)) \
	__constructor_order_last(void) \
	{ \
		__constructor_order = __constructor_order ?: \
				      _CONSTRUCTOR_ORDER_BACKWARD; \
	} \
	int main(int argc, char **argv) \
	{ \
		ivhost_harness_filter(argv[0]); \
		exit(test_harness_run(argc, argv)); \
	}

#endif

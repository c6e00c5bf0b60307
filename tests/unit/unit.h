/* Shared by the unit suites: run one suite and exit with its verdict. */
#ifndef VMM_UNIT_H
#define VMM_UNIT_H

#include <check.h>
#include <glib.h>
#include <stdlib.h>

#define UNIT_MAIN(suite_fn)                                            \
    int main(void)                                                     \
    {                                                                  \
        /* No unit test may reach a real database by accident. */      \
        setenv("VMM_DATABASE_SOCKET", "/nonexistent/mysqld.sock", 1);  \
        SRunner *runner = srunner_create(suite_fn());                  \
        srunner_run_all(runner, CK_ENV);                               \
        int failed = srunner_ntests_failed(runner);                    \
        srunner_free(runner);                                          \
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;                   \
    }

#endif

/* refund-harness: the conformance and simulation harness for the Package Packed for Refund
 * command (cli.h parses the command line; commands.h does the work). Exit codes: 0 all passed,
 * 1 a scenario failed, 2 invalid scenario, nothing selected or usage, 3 the environment failed. */
#include "cli.h"

#include <errno.h>
#include <signal.h>

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    return cli_main(argc, argv);
}

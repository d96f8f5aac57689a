// SPDX-License-Identifier: Apache-2.0
#include "beat/app/commands.h"

int main(int argc, char** argv) {
    return sipbeat::app::main(argc, argv);
}

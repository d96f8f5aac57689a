// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

namespace sipbeat::core {

/// A random (version 4) UUID in its canonical text form, from the kernel's CSPRNG.
std::string newUuidV4();

}  // namespace sipbeat::core

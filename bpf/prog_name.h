// Theory of operation: attachments outlive their process (XDP and TC filters
// stay until removed), so on start an owner must recognise its own stale
// programs on a device and replace them, without touching anyone else's.
// Programs are recognised by name, which the kernel keeps (truncated to 15
// characters) with every loaded program.
#pragma once

#include <cstdint>
#include <string>

#include "result.h"

namespace xo::bpf {

/** program_name() - kernel-side name of the loaded program with id @id. */
Result<std::string> program_name(std::uint32_t id);

/** is_named() - whether program @id is loaded under @name (truncated as the kernel does). */
bool is_named(std::uint32_t id, const std::string& name);

} // namespace xo::bpf

// Theory of operation: attachments outlive their process (XDP and TC filters
// stay until removed), so on start an owner must recognise its own stale
// programs on a device and replace them, without touching anyone else's.
// Programs are recognised by name, which the kernel keeps (truncated to 15
// characters) with every loaded program. Reading another program's name
// needs CAP_SYS_ADMIN, which the daemons do not hold; without it a program
// in one of our own slots (a TC handle and priority reserved for XO) is
// taken to be a stale copy of ours.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace xo::bpf {

/** program_name() - kernel-side name of the loaded program with id @id. */
Result<std::string> program_name(std::uint32_t id);

/**
 * is_ours() - whether program @id, found in one of our slots, is ours: loaded
 * under @name (truncated as the kernel does), or not ours to inspect (EPERM).
 */
bool is_ours(std::uint32_t id, const std::string& name);

} // namespace xo::bpf

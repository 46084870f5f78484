// Theory of operation: where the data plane's maps live across restarts.
// Every data plane instance pins its maps in its own bpffs directory,
// /sys/fs/bpf/xo/<instance>/<map name>. Before load, each map gets its pin
// path (libbpf then reuses a compatible pinned map or creates and pins a new
// one), so a restarted daemon finds the flow entries its predecessor left and
// offloaded transfers keep flowing. bpffs is not mounted at boot on our hosts:
// it is mounted on first use. Pins are removed only by an explicit remove.
#pragma once

#include <bpf/libbpf.h>

#include <cstdint>
#include <string>

#include "common/result.h"

namespace xo::bpf {

/** pin_dir() - /sys/fs/bpf/xo/@instance (no check, no side effect). */
std::string pin_dir(const std::string& instance);

/**
 * prepare_pin_dir() - mount bpffs if needed and create the instance directory.
 * @instance: letters, digits, '-' and '_' only.
 *
 * Return: the directory path.
 */
Result<std::string> prepare_pin_dir(const std::string& instance);

/**
 * configure_maps() - give every map of @obj a pin path and a size, before load.
 * @obj: an opened, not yet loaded object.
 * @dir: the instance pin directory.
 * @max_entries: capacity of each hash map.
 */
Result<void> configure_maps(bpf_object* obj, const std::string& dir, std::uint32_t max_entries);

/**
 * remove_pins() - unlink the pins of @obj's maps and the directory if empty.
 * @obj: an opened object (only map names are used; need not be loaded).
 * @instance: the instance whose pins go.
 */
Result<void> remove_pins(bpf_object* obj, const std::string& instance);

} // namespace xo::bpf

// libFuzzer target for the user.rgw.manifest decoder (common/rgw/rgw_manifest.h).
//
// Theory of operation: the manifest is read from a RADOS xattr, which anyone
// with write access to the data pool can set, so any bytes must decode to a
// Manifest or an error value — no crash, no overread (AddressSanitizer), no
// unbounded allocation or loop (the extent walk is capped per call). Whatever
// decodes is also walked into extents, and those must tile the object:
// contiguous from 0, non-empty, ending at obj_size; and a cursor seeking an
// offset inside the object must yield exactly the rest of that walk. The head
// identity given is the one the manifest itself names, so the walk gets past
// that check.
//
// Build (clang only; a separate build directory):
//   CC=clang CXX=clang++ cmake -S . -B /tmp/xo-manifest-fuzz-build -DXO_FUZZ=ON
//   cmake --build /tmp/xo-manifest-fuzz-build --target xo_rgw_manifest_fuzz
// Run (seeded with the golden manifests, converted from hex):
//   mkdir -p /tmp/xo-manifest-corpus
//   for f in qa/unit/fixtures/rgw_manifest/*.hex; do
//     xxd -r -p "$f" > /tmp/xo-manifest-corpus/$(basename "$f" .hex); done
//   /tmp/xo-manifest-fuzz-build/qa/fuzz/xo_rgw_manifest_fuzz -max_total_time=600 -malloc_limit_mb=256 /tmp/xo-manifest-corpus
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "common/rgw/rgw_manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    auto manifest = xo::rgw::decode_manifest(std::span<const std::uint8_t>(data, size));
    if (!manifest)
        return 0;
    auto name = xo::rgw::rados_name(manifest->obj);
    xo::rgw::HeadObject head{"pool", "", name.oid, name.locator};
    auto extents = xo::rgw::manifest_extents(*manifest, head, 4096);
    if (!extents)
        return 0;
    std::uint64_t ofs = 0;
    for (const auto& e : *extents) {
        if (e.logical_offset != ofs || e.length == 0 || e.oid.empty())
            std::abort(); // a gap, an overlap or an empty extent
        ofs += e.length;
    }
    if (ofs != manifest->obj_size)
        std::abort(); // the extents do not add up to the object
    if (extents->empty())
        return 0;
    const std::uint64_t offset = (size * 2654435761u) % manifest->obj_size;
    auto cursor = xo::rgw::ExtentCursor::open(*manifest, head, 4096);
    if (!cursor || !cursor->seek(offset))
        std::abort(); // what the walk accepted, the cursor must seek
    std::size_t k = 0;
    while ((*extents)[k].logical_offset + (*extents)[k].length <= offset)
        ++k;
    for (; k < extents->size(); ++k) {
        auto e = cursor->next();
        if (!e || e->oid != (*extents)[k].oid || e->logical_offset != (*extents)[k].logical_offset ||
            e->length != (*extents)[k].length || e->rados_offset != (*extents)[k].rados_offset)
            std::abort(); // seeking disagrees with walking
    }
    if (cursor->next())
        std::abort();
    return 0;
}

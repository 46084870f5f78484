// bpffs mounting, per-instance pin directories and map pin configuration.
#include "bpf/bpffs.h"

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>

namespace xo::bpf {
namespace {

constexpr const char* kBpffsRoot = "/sys/fs/bpf";
constexpr const char* kXoRoot = "/sys/fs/bpf/xo";

bool valid_instance(const std::string& name)
{
    if (name.empty() || name.size() > 64)
        return false;
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ok)
            return false;
    }
    return true;
}

/** ensure_bpffs() - mount bpffs on /sys/fs/bpf unless it is already there. */
Result<void> ensure_bpffs()
{
    struct statfs st {};
    if (statfs(kBpffsRoot, &st) != 0)
        return Error::from_errno(std::string("statfs ") + kBpffsRoot);
    if (st.f_type == BPF_FS_MAGIC)
        return {};
    if (mount("bpf", kBpffsRoot, "bpf", 0, "mode=0700") != 0)
        return Error::from_errno(std::string("mount bpffs on ") + kBpffsRoot);
    return {};
}

Result<void> make_dir(const std::string& path)
{
    if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
        return Error::from_errno("mkdir " + path);
    return {};
}

/** remove_dir_if_empty() - rmdir @path; absent or still in use is fine. */
Result<void> remove_dir_if_empty(const std::string& path)
{
    if (rmdir(path.c_str()) != 0 && errno != ENOENT && errno != ENOTEMPTY)
        return Error::from_errno("rmdir " + path);
    return {};
}

} // namespace

std::string pin_dir(const std::string& instance)
{
    return std::string(kXoRoot) + "/" + instance;
}

Result<std::string> prepare_pin_dir(const std::string& instance)
{
    if (!valid_instance(instance))
        return Error{"bad data plane instance name '" + instance + "'", EINVAL};
    if (auto r = ensure_bpffs(); !r)
        return r.error();
    if (auto r = make_dir(kXoRoot); !r)
        return r.error();
    std::string dir = pin_dir(instance);
    if (auto r = make_dir(dir); !r)
        return r.error();
    return dir;
}

Result<void> configure_maps(bpf_object* obj, const std::string& dir, std::uint32_t max_entries)
{
    bpf_map* map;
    bpf_object__for_each_map(map, obj)
    {
        std::string path = dir + "/" + bpf_map__name(map);
        if (int err = bpf_map__set_pin_path(map, path.c_str()); err)
            return Error::from_errno("set pin path " + path, -err);
        if (int err = bpf_map__set_max_entries(map, max_entries); err)
            return Error::from_errno(std::string("set size of map ") + bpf_map__name(map), -err);
    }
    return {};
}

Result<void> remove_pins(bpf_object* obj, const std::string& instance)
{
    if (!valid_instance(instance))
        return Error{"bad data plane instance name '" + instance + "'", EINVAL};
    std::string dir = pin_dir(instance);
    bpf_map* map;
    bpf_object__for_each_map(map, obj)
    {
        std::string path = dir + "/" + bpf_map__name(map);
        if (unlink(path.c_str()) != 0 && errno != ENOENT)
            return Error::from_errno("unlink pin " + path);
    }
    if (auto r = remove_dir_if_empty(dir); !r)
        return r;
    return remove_dir_if_empty(kXoRoot);
}

} // namespace xo::bpf

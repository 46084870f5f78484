// Program name lookup by id (BPF_PROG_GET_FD_BY_ID + BPF_OBJ_GET_INFO_BY_FD).
#include "bpf/prog_name.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>

namespace xo::bpf {

Result<std::string> program_name(std::uint32_t id)
{
    int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0)
        return Error::from_errno("open program " + std::to_string(id));
    bpf_prog_info info {};
    std::uint32_t len = sizeof(info);
    int rc = bpf_obj_get_info_by_fd(fd, &info, &len);
    int err = errno;
    close(fd);
    if (rc != 0)
        return Error::from_errno("read info of program " + std::to_string(id), err);
    return std::string(info.name);
}

bool is_ours(std::uint32_t id, const std::string& name)
{
    auto actual = program_name(id);
    if (!actual)
        return actual.error().code == EPERM;
    return *actual == name.substr(0, BPF_OBJ_NAME_LEN - 1);
}

} // namespace xo::bpf

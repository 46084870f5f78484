// TEMPORARY stand-in for the lead's Keyring/KeyringFile (common/psk.h on main); reverted before merging main.
#pragma once

#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "hex.h"

namespace xo {

class Keyring {
public:
    static Result<Keyring> of(std::vector<PresharedKey> keys)
    {
        if (keys.empty())
            return Error{"no keys"};
        Keyring k;
        k.keys_ = std::move(keys);
        return k;
    }
    static Result<Keyring> load(const std::string& path)
    {
        std::ifstream in(path);
        if (!in)
            return Error{"cannot open " + path};
        std::vector<PresharedKey> keys;
        std::string id, hex;
        while (in >> id >> hex) {
            std::vector<std::uint8_t> b(hex.size() / 2);
            for (std::size_t i = 0; i < b.size(); ++i)
                b[i] = static_cast<std::uint8_t>(hex_value(hex[2 * i]) << 4 | hex_value(hex[2 * i + 1]));
            auto k = PresharedKey::from_bytes(id, b);
            if (!k)
                return k.error();
            keys.push_back(std::move(*k));
        }
        return of(std::move(keys));
    }
    const PresharedKey& current() const { return keys_.front(); }
    const PresharedKey* find(std::string_view id) const
    {
        for (const auto& k : keys_)
            if (k.id() == id)
                return &k;
        return nullptr;
    }
    const std::vector<PresharedKey>& keys() const { return keys_; }

private:
    std::vector<PresharedKey> keys_;
};

class KeyringFile {
public:
    explicit KeyringFile(std::string path) : path_(std::move(path)) {}
    Result<std::shared_ptr<const Keyring>> keys()
    {
        struct stat st {};
        if (::stat(path_.c_str(), &st) != 0)
            return Error::from_errno("stat " + path_);
        if (cached_ && st.st_mtim.tv_sec == mtime_.tv_sec && st.st_mtim.tv_nsec == mtime_.tv_nsec &&
            st.st_ino == ino_ && st.st_size == size_)
            return cached_;
        auto k = Keyring::load(path_);
        if (!k)
            return k.error();
        cached_ = std::make_shared<const Keyring>(std::move(*k));
        mtime_ = st.st_mtim;
        ino_ = st.st_ino;
        size_ = st.st_size;
        return cached_;
    }

private:
    std::string path_;
    std::shared_ptr<const Keyring> cached_;
    timespec mtime_{};
    ino_t ino_ = 0;
    off_t size_ = 0;
};

} // namespace xo

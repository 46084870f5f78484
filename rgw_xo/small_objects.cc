#include "rgw_xo/small_objects.h"

namespace xo::gw {

std::string SmallObjects::key_of(const rgw::ObjectName& name)
{
    // NUL cannot occur in a bucket name; a key or version id with NULs still
    // maps one-to-one because the bucket part ends at the first NUL and the
    // version id's length is part of the key.
    std::string key;
    key.reserve(name.bucket.size() + name.key.size() + name.version_id.size() + 24);
    key += name.bucket;
    key += '\0';
    key += std::to_string(name.version_id.size());
    key += '\0';
    key += name.version_id;
    key += name.key;
    return key;
}

bool SmallObjects::contains(const rgw::ObjectName& name)
{
    auto it = index_.find(key_of(name));
    if (it == index_.end())
        return false;
    order_.splice(order_.begin(), order_, it->second);
    return true;
}

void SmallObjects::remember(const rgw::ObjectName& name)
{
    if (capacity_ == 0)
        return;
    std::string key = key_of(name);
    if (auto it = index_.find(key); it != index_.end()) {
        order_.splice(order_.begin(), order_, it->second);
        return;
    }
    if (index_.size() >= capacity_) {
        index_.erase(order_.back());
        order_.pop_back();
    }
    order_.push_front(std::move(key));
    index_.emplace(order_.front(), order_.begin());
}

void SmallObjects::forget(const rgw::ObjectName& name)
{
    auto it = index_.find(key_of(name));
    if (it == index_.end())
        return;
    order_.erase(it->second);
    index_.erase(it);
}

} // namespace xo::gw

#include "cpu/shm_fabric.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "backend.hpp"

namespace strata::exec {

template <class Pred>
void ShmFabric::wait(std::unique_lock<std::mutex>& lk, Pred pred, const std::string& what) {
  const auto t0 = std::chrono::steady_clock::now();
  while (!pred()) {
    if (aborted_.load()) throw ExecAborted(what + ": aborted (" + reason_ + ")");
    cv_.wait_for(lk, std::chrono::milliseconds(50));
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!pred() && waited > timeout_s_) {
      const std::string msg = what + ": timed out after " + std::to_string(int(waited)) + " s waiting for peers";
      reason_ = msg;
      aborted_.store(true);
      cv_.notify_all();
      throw ExecError(msg);
    }
  }
}

void ShmFabric::abort(const std::string& why) {
  std::lock_guard<std::mutex> lk(m_);
  if (!aborted_.load()) reason_ = why;
  aborted_.store(true);
  cv_.notify_all();
}

std::string ShmFabric::abort_reason() const {
  std::lock_guard<std::mutex> lk(m_);
  return reason_;
}

void ShmFabric::do_part(const Slot& s, int p) {
  const int n = s.n;
  const std::size_t count = s.count;
  float* out = s.out[std::size_t(p)];
  switch (s.kind) {
    case CollKind::all_reduce: {
      // Member p reduces chunk p of every input and writes it to every member's output.
      const std::size_t b = count * std::size_t(p) / std::size_t(n), e = count * std::size_t(p + 1) / std::size_t(n);
      if (b == e) break;
      std::vector<float> acc(s.in[0] + b, s.in[0] + e);
      for (int q = 1; q < n; ++q) {
        const float* src = s.in[std::size_t(q)] + b;
        for (std::size_t i = 0; i < e - b; ++i) acc[i] += src[i];
      }
      for (int q = 0; q < n; ++q) std::memcpy(s.out[std::size_t(q)] + b, acc.data(), (e - b) * sizeof(float));
      break;
    }
    case CollKind::all_gather: {
      const std::size_t per = count / std::size_t(n);
      for (int q = 0; q < n; ++q) std::memcpy(out + std::size_t(q) * per, s.in[std::size_t(q)], per * sizeof(float));
      break;
    }
    case CollKind::reduce_scatter: {
      const std::size_t per = count / std::size_t(n);
      const std::size_t off = per * std::size_t(p);
      std::memcpy(out, s.in[0] + off, per * sizeof(float));
      for (int q = 1; q < n; ++q) {
        const float* src = s.in[std::size_t(q)] + off;
        for (std::size_t i = 0; i < per; ++i) out[i] += src[i];
      }
      break;
    }
    case CollKind::all_to_all: {
      const std::size_t per = count / std::size_t(n);
      for (int q = 0; q < n; ++q)
        std::memcpy(out + std::size_t(q) * per, s.in[std::size_t(q)] + std::size_t(p) * per, per * sizeof(float));
      break;
    }
    case CollKind::all_to_all_v: {
      std::size_t dst_off = 0;
      for (int q = 0; q < n; ++q) {
        const auto& c = *s.counts[std::size_t(q)];
        std::size_t src_off = 0;
        for (int k = 0; k < p; ++k) src_off += c[std::size_t(k)];
        const std::size_t len = c[std::size_t(p)];
        std::memcpy(out + dst_off, s.in[std::size_t(q)] + src_off, len * sizeof(float));
        dst_off += len;
      }
      break;
    }
    case CollKind::broadcast: {
      if (p != 0) std::memcpy(out, s.in[0], count * sizeof(float));
      else if (out != s.in[0]) std::memcpy(out, s.in[0], count * sizeof(float));
      break;
    }
  }
}

void ShmFabric::collective(const CollKey& key, CollKind kind, int n, int position, const float* in, float* out,
                           std::size_t count, const std::vector<std::size_t>& send_counts, const std::string& what) {
  std::shared_ptr<Slot> slot;
  {
    std::unique_lock<std::mutex> lk(m_);
    if (aborted_.load()) throw ExecAborted(what + ": aborted (" + reason_ + ")");
    auto& sp = slots_[key];
    if (!sp) {
      sp = std::make_shared<Slot>();
      sp->n = n;
      sp->kind = kind;
      sp->count = count;
      sp->in.assign(std::size_t(n), nullptr);
      sp->out.assign(std::size_t(n), nullptr);
      sp->counts.assign(std::size_t(n), nullptr);
    }
    slot = sp;
    if (slot->n != n || slot->kind != kind || (kind != CollKind::all_to_all_v && slot->count != count))
      throw ExecError(what + ": members disagree on the collective (kind, size or count differ)");
    slot->in[std::size_t(position)] = in;
    slot->out[std::size_t(position)] = out;
    slot->counts[std::size_t(position)] = &send_counts;
    ++slot->arrived;
    cv_.notify_all();
    wait(lk, [&] { return slot->arrived == n; }, what);
  }
  do_part(*slot, position);
  {
    std::unique_lock<std::mutex> lk(m_);
    if (++slot->done == n) {
      slots_.erase(key);
      cv_.notify_all();
    }
    wait(lk, [&] { return slot->done == n; }, what);
  }
}

void ShmFabric::send(const MsgKey& key, const float* data, std::size_t count) {
  std::vector<float> msg(data, data + count);
  std::lock_guard<std::mutex> lk(m_);
  if (aborted_.load()) throw ExecAborted("send aborted (" + reason_ + ")");
  mailbox_[key] = std::move(msg);
  cv_.notify_all();
}

void ShmFabric::recv(const MsgKey& key, float* out, std::size_t count, const std::string& what) {
  std::vector<float> msg;
  {
    std::unique_lock<std::mutex> lk(m_);
    wait(lk, [&] { return mailbox_.count(key) != 0; }, what);
    auto it = mailbox_.find(key);
    msg = std::move(it->second);
    mailbox_.erase(it);
  }
  if (msg.size() != count)
    throw ExecError(what + ": the message has " + std::to_string(msg.size() * sizeof(float)) + " bytes, the receive expects " +
                    std::to_string(count * sizeof(float)));
  std::memcpy(out, msg.data(), count * sizeof(float));
}

}  // namespace strata::exec

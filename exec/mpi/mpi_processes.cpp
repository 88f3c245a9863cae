// ProcessGroup over MPI (processes.hpp). Built only where CMake found MPI (STRATA_HAVE_MPI).
#include <mpi.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "backend.hpp"
#include "processes.hpp"

namespace strata::exec {

namespace {

void check(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING] = {0};
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw ExecError(std::string("MPI error in ") + call + ": " + msg);
}

class MpiGroup final : public ProcessGroup {
public:
  MpiGroup() {
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) {
      int provided = 0;
      // The rank's thread (not main) makes the calls, one at a time.
      check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread");
      owns_ = true;
      if (provided < MPI_THREAD_SERIALIZED)
        throw ExecError("MPI provides thread level " + std::to_string(provided) + "; strata needs MPI_THREAD_SERIALIZED");
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
    MPI_Comm node = MPI_COMM_NULL;
    check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node), "MPI_Comm_split_type");
    check(MPI_Comm_rank(node, &local_), "MPI_Comm_rank (node)");
    MPI_Comm_free(&node);
  }
  ~MpiGroup() override {
    int fin = 0;
    MPI_Finalized(&fin);
    if (owns_ && !fin) MPI_Finalize();
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_; }
  void broadcast(void* data, std::size_t bytes, int root) override {
    check(MPI_Bcast(data, int(bytes), MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
  }
  void barrier() override { check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }
  double min(double x) override {
    double out = x;
    check(MPI_Allreduce(&x, &out, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD), "MPI_Allreduce");
    return out;
  }
  std::vector<std::string> gather(const std::string& mine, int root) override {
    // Sizes as 64-bit counts, the bytes in chunks that fit MPI's int counts.
    long long n = static_cast<long long>(mine.size());
    std::vector<long long> sizes(rank_ == root ? std::size_t(size_) : 0);
    check(MPI_Gather(&n, 1, MPI_LONG_LONG, sizes.data(), 1, MPI_LONG_LONG, root, MPI_COMM_WORLD), "MPI_Gather");
    std::vector<std::string> out;
    if (rank_ == root) out.resize(std::size_t(size_));
    constexpr long long kChunk = 1 << 30;
    if (rank_ == root) {
      out[std::size_t(root)] = mine;
      for (int r = 0; r < size_; ++r) {
        if (r == root) continue;
        std::string& s = out[std::size_t(r)];
        s.resize(std::size_t(sizes[std::size_t(r)]));
        for (long long off = 0; off < sizes[std::size_t(r)]; off += kChunk) {
          const int len = int(std::min(kChunk, sizes[std::size_t(r)] - off));
          check(MPI_Recv(s.data() + off, len, MPI_BYTE, r, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
        }
      }
    } else {
      for (long long off = 0; off < n; off += kChunk) {
        const int len = int(std::min(kChunk, n - off));
        check(MPI_Send(mine.data() + off, len, MPI_BYTE, root, 7, MPI_COMM_WORLD), "MPI_Send");
      }
    }
    return out;
  }

  [[noreturn]] void abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);
  }

private:
  int rank_ = 0, size_ = 1, local_ = 0;
  bool owns_ = false;
};

}  // namespace

bool mpi_built() { return true; }
std::unique_ptr<ProcessGroup> join_mpirun() { return std::make_unique<MpiGroup>(); }

}  // namespace strata::exec

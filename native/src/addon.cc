// @lvsd/native: the thin part. Sockets, polling, batched send/receive, and a
// periodic sender thread. Every byte that crosses a socket is encoded and decoded
// in TypeScript; this file only moves buffers and reports errno.
#include <napi.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

// Large enough for any netlink dump skb and any IP datagram, so one recvmsg per
// message and no MSG_PEEK round trip.
constexpr size_t kRecvBuf = 256 * 1024;
constexpr size_t kControlBuf = 1024;
constexpr size_t kAddrBuf = 128;

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall) {
  Napi::Error e = Napi::Error::New(env, std::string(syscall) + ": " + strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  const char* name = nullptr;
  switch (err) {
#define E(x) case x: name = #x; break;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(EBADF) E(EAGAIN)
    E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(ENODEV) E(EINVAL)
    E(ENFILE) E(EMFILE) E(ENOSPC) E(EPIPE) E(ERANGE) E(EPROTONOSUPPORT)
    E(EAFNOSUPPORT) E(EADDRINUSE) E(EADDRNOTAVAIL) E(ENETDOWN) E(ENETUNREACH)
    E(ENOBUFS) E(ECONNREFUSED) E(EHOSTUNREACH) E(EMSGSIZE) E(ENOPROTOOPT)
    E(ETIMEDOUT) E(ENOTCONN) E(ECONNRESET) E(EOPNOTSUPP) E(EDESTADDRREQ)
#undef E
    default: break;
  }
  e.Set("code", Napi::String::New(env, name ? name : ("E" + std::to_string(err)).c_str()));
  return e;
}

std::vector<uint8_t> CopyBuffer(const Napi::Value& v) {
  if (!v.IsBuffer()) return {};
  auto b = v.As<Napi::Buffer<uint8_t>>();
  return std::vector<uint8_t>(b.Data(), b.Data() + b.Length());
}

// Collects the Buffer or Buffer[] argument into one contiguous payload: a netlink
// batch is one sendmsg of back-to-back messages.
std::vector<uint8_t> CollectPayload(const Napi::Value& v) {
  if (v.IsBuffer()) return CopyBuffer(v);
  std::vector<uint8_t> out;
  if (v.IsArray()) {
    auto arr = v.As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); i++) {
      auto b = arr.Get(i).As<Napi::Buffer<uint8_t>>();
      out.insert(out.end(), b.Data(), b.Data() + b.Length());
    }
  }
  return out;
}

int OptFd(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsNumber()) return -1;
  return info[i].As<Napi::Number>().Int32Value();
}

// socket(domain, type, protocol, netnsFd?) -> fd. Always non-blocking and
// close-on-exec. With netnsFd the socket is created inside that network
// namespace: setns on this thread, socket(), setns back.
Napi::Value Socket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int domain = info[0].As<Napi::Number>().Int32Value();
  int type = info[1].As<Napi::Number>().Int32Value();
  int protocol = info[2].As<Napi::Number>().Int32Value();
  int nsfd = OptFd(info, 3);
  int saved = -1;
  if (nsfd >= 0) {
    saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (saved < 0) throw ErrnoError(env, errno, "open");
    if (setns(nsfd, CLONE_NEWNET) < 0) {
      int e = errno;
      close(saved);
      throw ErrnoError(env, e, "setns");
    }
  }
  int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  int err = errno;
  if (saved >= 0) {
    if (setns(saved, CLONE_NEWNET) < 0) abort();  // the main thread must never stay in a foreign netns
    close(saved);
  }
  if (fd < 0) throw ErrnoError(env, err, "socket");
  return Napi::Number::New(env, fd);
}

// An error recvmsg reported after some messages of the same call had been read: the
// kernel clears a socket error once it has reported it (ENOBUFS after an overrun),
// so it is kept here and thrown by the next call on that fd, after the messages were
// delivered. Per thread: recvmsg and close run on the JS thread that owns the socket.
thread_local std::unordered_map<int, int> deferredRecvError;

Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  deferredRecvError.erase(fd);  // the number may be reused by the next socket
  if (close(fd) < 0) throw ErrnoError(info.Env(), errno, "close");
  return info.Env().Undefined();
}

// setsockopt(fd, level, name, value: number | Buffer)
Napi::Value SetSockOpt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int level = info[1].As<Napi::Number>().Int32Value();
  int name = info[2].As<Napi::Number>().Int32Value();
  int rc;
  if (info[3].IsBuffer()) {
    auto b = info[3].As<Napi::Buffer<uint8_t>>();
    rc = setsockopt(fd, level, name, b.Data(), b.Length());
  } else {
    int v = info[3].As<Napi::Number>().Int32Value();
    rc = setsockopt(fd, level, name, &v, sizeof v);
  }
  if (rc < 0) throw ErrnoError(env, errno, "setsockopt");
  return env.Undefined();
}

// getsockopt(fd, level, name, length) -> Buffer
Napi::Value GetSockOpt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int level = info[1].As<Napi::Number>().Int32Value();
  int name = info[2].As<Napi::Number>().Int32Value();
  socklen_t len = info[3].As<Napi::Number>().Uint32Value();
  std::vector<uint8_t> buf(len);
  if (getsockopt(fd, level, name, buf.data(), &len) < 0) throw ErrnoError(env, errno, "getsockopt");
  return Napi::Buffer<uint8_t>::Copy(env, buf.data(), len);
}

Napi::Value Bind(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  auto a = info[1].As<Napi::Buffer<uint8_t>>();
  if (bind(fd, reinterpret_cast<sockaddr*>(a.Data()), a.Length()) < 0) throw ErrnoError(env, errno, "bind");
  return env.Undefined();
}

// connect(fd, sockaddr) -> true when connected, false when in progress.
Napi::Value Connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  auto a = info[1].As<Napi::Buffer<uint8_t>>();
  if (connect(fd, reinterpret_cast<sockaddr*>(a.Data()), a.Length()) < 0) {
    if (errno == EINPROGRESS) return Napi::Boolean::New(env, false);
    throw ErrnoError(env, errno, "connect");
  }
  return Napi::Boolean::New(env, true);
}

Napi::Value GetSockName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) throw ErrnoError(env, errno, "getsockname");
  return Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<uint8_t*>(&ss), len);
}

ssize_t DoSendmsg(int fd, const std::vector<uint8_t>& data, const std::vector<uint8_t>& addr,
                  const std::vector<uint8_t>& control) {
  iovec iov{const_cast<uint8_t*>(data.data()), data.size()};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  if (!addr.empty()) {
    mh.msg_name = const_cast<uint8_t*>(addr.data());
    mh.msg_namelen = addr.size();
  }
  if (!control.empty()) {
    mh.msg_control = const_cast<uint8_t*>(control.data());
    mh.msg_controllen = control.size();
  }
  ssize_t n;
  do n = sendmsg(fd, &mh, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  return n;
}

// sendmsg(fd, data: Buffer | Buffer[], addr?: Buffer, control?: Buffer) -> bytes.
// Buffer[] is concatenated and sent as one datagram (one syscall per batch).
Napi::Value SendMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  auto data = CollectPayload(info[1]);
  auto addr = info.Length() > 2 ? CopyBuffer(info[2]) : std::vector<uint8_t>{};
  auto control = info.Length() > 3 ? CopyBuffer(info[3]) : std::vector<uint8_t>{};
  ssize_t n = DoSendmsg(fd, data, addr, control);
  if (n < 0) throw ErrnoError(env, errno, "sendmsg");
  return Napi::Number::New(env, static_cast<double>(n));
}

// The same send on the libuv thread pool, for requests the kernel may sit on
// (IPVS sync daemon stop waits for its kthreads): the event loop keeps running.
class SendWorker : public Napi::AsyncWorker {
 public:
  SendWorker(Napi::Env env, int fd, std::vector<uint8_t> data, std::vector<uint8_t> addr)
      : Napi::AsyncWorker(env), fd_(fd), data_(std::move(data)), addr_(std::move(addr)),
        deferred_(Napi::Promise::Deferred::New(env)) {}
  void Execute() override {
    n_ = DoSendmsg(fd_, data_, addr_, {});
    err_ = n_ < 0 ? errno : 0;
  }
  void OnOK() override {
    if (err_) deferred_.Reject(ErrnoError(Env(), err_, "sendmsg").Value());
    else deferred_.Resolve(Napi::Number::New(Env(), static_cast<double>(n_)));
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

 private:
  int fd_;
  std::vector<uint8_t> data_, addr_;
  ssize_t n_ = 0;
  int err_ = 0;
  Napi::Promise::Deferred deferred_;
};

Napi::Value SendMsgAsync(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  auto* w = new SendWorker(info.Env(), fd, CollectPayload(info[1]),
                           info.Length() > 2 ? CopyBuffer(info[2]) : std::vector<uint8_t>{});
  auto p = w->Promise();
  w->Queue();
  return p;
}

// Reads every datagram waiting on fd (non-blocking) into a JS array of
// { data, addr, control, flags }. Stops at EAGAIN or after `max` messages.
// Returns the array, or throws the errno (ENOBUFS after an overrun).
Napi::Value DrainInto(Napi::Env env, int fd, uint32_t max, std::vector<uint8_t>& buf, int* errOut) {
  Napi::Array out = Napi::Array::New(env);
  uint32_t count = 0;
  *errOut = 0;
  uint8_t control[kControlBuf];
  uint8_t addr[kAddrBuf];
  while (count < max) {
    iovec iov{buf.data(), buf.size()};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_name = addr;
    mh.msg_namelen = sizeof addr;
    mh.msg_control = control;
    mh.msg_controllen = sizeof control;
    ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) *errOut = errno;
      break;
    }
    size_t len = static_cast<size_t>(n) > buf.size() ? buf.size() : static_cast<size_t>(n);
    Napi::Object m = Napi::Object::New(env);
    m.Set("data", Napi::Buffer<uint8_t>::Copy(env, buf.data(), len));
    if (mh.msg_namelen > 0) m.Set("addr", Napi::Buffer<uint8_t>::Copy(env, addr, mh.msg_namelen));
    if (mh.msg_controllen > 0) m.Set("control", Napi::Buffer<uint8_t>::Copy(env, control, mh.msg_controllen));
    m.Set("flags", Napi::Number::New(env, mh.msg_flags));
    if (static_cast<size_t>(n) > buf.size()) m.Set("truncated", Napi::Boolean::New(env, true));
    out.Set(count++, m);
  }
  return out;
}


Napi::Value RecvMsgSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  uint32_t max = info.Length() > 1 ? info[1].As<Napi::Number>().Uint32Value() : 1024;
  auto deferred = deferredRecvError.find(fd);
  if (deferred != deferredRecvError.end()) {
    int e = deferred->second;
    deferredRecvError.erase(deferred);
    throw ErrnoError(env, e, "recvmsg");
  }
  static thread_local std::vector<uint8_t> buf(kRecvBuf);
  int err;
  Napi::Value out = DrainInto(env, fd, max, buf, &err);
  if (err) {
    if (out.As<Napi::Array>().Length() == 0) throw ErrnoError(env, err, "recvmsg");
    deferredRecvError[fd] = err;
  }
  return out;
}

// Poller: watches fd with libuv and hands every readable burst to JS as one
// array, so the replies to a batch arrive together. Errors (ENOBUFS on an
// overrun netlink socket) are passed as the callback's first argument and the
// poller keeps going: the caller resyncs.
class Poller : public Napi::ObjectWrap<Poller> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Poller", {InstanceMethod("start", &Poller::Start),
                                       InstanceMethod("stop", &Poller::Stop)});
  }
  Poller(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Poller>(info), buf_(kRecvBuf) {
    fd_ = info[0].As<Napi::Number>().Int32Value();
    cb_ = Napi::Persistent(info[1].As<Napi::Function>());
  }
  ~Poller() override { StopPoll(); }

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    if (handle_) return info.Env().Undefined();
    uv_loop_t* loop;
    napi_get_uv_event_loop(info.Env(), &loop);
    handle_ = new uv_poll_t;
    handle_->data = this;
    int rc = uv_poll_init(loop, handle_, fd_);
    if (rc == 0) rc = uv_poll_start(handle_, UV_READABLE, OnReadable);
    if (rc != 0) {
      delete handle_;
      handle_ = nullptr;
      throw ErrnoError(info.Env(), -rc, "uv_poll_start");
    }
    Ref();  // alive while polling, even if JS drops the object
    return info.Env().Undefined();
  }
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    StopPoll();
    return info.Env().Undefined();
  }
  void StopPoll() {
    if (!handle_) return;
    uv_poll_stop(handle_);
    uv_close(reinterpret_cast<uv_handle_t*>(handle_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    handle_ = nullptr;
    Unref();
  }
  static void OnReadable(uv_poll_t* h, int status, int) {
    auto* self = static_cast<Poller*>(h->data);
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    if (status < 0) {
      // libuv turns POLLERR into UV_EBADF and stops the handle. The socket's real
      // error (ENOBUFS after an overrun) is what recvmsg returns below; then poll again.
      uv_poll_start(h, UV_READABLE, OnReadable);
    }
    int err;
    Napi::Value msgs = DrainInto(env, self->fd_, 4096, self->buf_, &err);
    Napi::Value e = err ? ErrnoError(env, err, "recvmsg").Value() : env.Null();
    // A listener that throws must reach process 'uncaughtException' like any
    // other JS callback; a C++ exception escaping into libuv aborts the process.
    try {
      self->cb_.MakeCallback(env.Global(), {e, msgs});
    } catch (const Napi::Error& ex) {
      napi_fatal_exception(env, ex.Value());
    }
  }

  int fd_;
  uv_poll_t* handle_ = nullptr;
  Napi::FunctionReference cb_;
  std::vector<uint8_t> buf_;
};

// PeriodicSender: a thread that sends the same datagram every interval until
// stopped. VRRP adverts from a master must keep their cadence when the JS event
// loop stalls (GC, a slow callback); the state machine decides what is sent,
// this thread only keeps sending it. update() swaps the payload atomically.
class PeriodicSender : public Napi::ObjectWrap<PeriodicSender> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "PeriodicSender",
                       {InstanceMethod("update", &PeriodicSender::Update),
                        InstanceMethod("stop", &PeriodicSender::Stop),
                        InstanceMethod("stats", &PeriodicSender::Stats)});
  }
  // new PeriodicSender(fd, data, addrs: Buffer[], intervalUs, control?: Buffer, rtPriority?: number)
  PeriodicSender(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PeriodicSender>(info) {
    fd_ = info[0].As<Napi::Number>().Int32Value();
    data_ = CopyBuffer(info[1]);
    auto arr = info[2].As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); i++) addrs_.push_back(CopyBuffer(arr.Get(i)));
    interval_ = std::chrono::microseconds(static_cast<int64_t>(info[3].As<Napi::Number>().DoubleValue()));
    if (info.Length() > 4 && info[4].IsBuffer()) control_ = CopyBuffer(info[4]);
    if (info.Length() > 5 && info[5].IsNumber()) rtPriority_ = info[5].As<Napi::Number>().Int32Value();
    thread_ = std::thread([this] { Run(); });
    // A busy machine must not delay the master's adverts past the backup's
    // Master_Down_Interval: the thread only sleeps and sends, so SCHED_FIFO
    // cannot starve anything. Set from here, so stats() tell at once whether
    // the kernel granted it; without the privilege it stays SCHED_OTHER.
    if (rtPriority_ > 0) {
      sched_param sp{};
      sp.sched_priority = rtPriority_;
      int rc = pthread_setschedparam(thread_.native_handle(), SCHED_FIFO, &sp);
      if (rc == 0) rtActive_ = rtPriority_;
      else rtErrno_ = rc;
    }
  }
  ~PeriodicSender() override { Join(); }

 private:
  void Run() {
    std::unique_lock<std::mutex> lk(mu_);
    auto next = std::chrono::steady_clock::now() + interval_;
    while (!stop_) {
      if (cv_.wait_until(lk, next, [this] { return stop_; })) break;
      for (auto& a : addrs_) {
        if (DoSendmsg(fd_, data_, a, control_) < 0) errors_++;
        else sent_++;
      }
      next += interval_;
      auto now = std::chrono::steady_clock::now();
      if (next < now) next = now + interval_;  // never burst to catch up
    }
  }
  void Join() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  Napi::Value Update(const Napi::CallbackInfo& info) {
    std::lock_guard<std::mutex> lk(mu_);
    data_ = CopyBuffer(info[0]);
    if (info.Length() > 1 && info[1].IsNumber())
      interval_ = std::chrono::microseconds(static_cast<int64_t>(info[1].As<Napi::Number>().DoubleValue()));
    return info.Env().Undefined();
  }
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    Join();
    return info.Env().Undefined();
  }
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("sent", Napi::Number::New(info.Env(), static_cast<double>(sent_.load())));
    o.Set("errors", Napi::Number::New(info.Env(), static_cast<double>(errors_.load())));
    o.Set("rtPriority", Napi::Number::New(info.Env(), rtActive_.load()));
    o.Set("rtErrno", Napi::Number::New(info.Env(), rtErrno_.load()));
    return o;
  }

  int fd_;
  std::vector<uint8_t> data_, control_;
  std::vector<std::vector<uint8_t>> addrs_;
  std::chrono::microseconds interval_{1000000};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  int rtPriority_ = 0;
  std::atomic<int> rtActive_{0}, rtErrno_{0};
  std::atomic<uint64_t> sent_{0}, errors_{0};
  std::thread thread_;
};

Napi::Value IfNameToIndex(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>();
  unsigned idx = if_nametoindex(name.c_str());
  if (idx == 0) throw ErrnoError(info.Env(), errno, "if_nametoindex");
  return Napi::Number::New(info.Env(), idx);
}

Napi::Value IfIndexToName(const Napi::CallbackInfo& info) {
  char buf[IF_NAMESIZE];
  if (!if_indextoname(info[0].As<Napi::Number>().Uint32Value(), buf))
    throw ErrnoError(info.Env(), errno, "if_indextoname");
  return Napi::String::New(info.Env(), buf);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("socket", Napi::Function::New(env, Socket));
  exports.Set("close", Napi::Function::New(env, Close));
  exports.Set("setsockopt", Napi::Function::New(env, SetSockOpt));
  exports.Set("getsockopt", Napi::Function::New(env, GetSockOpt));
  exports.Set("bind", Napi::Function::New(env, Bind));
  exports.Set("connect", Napi::Function::New(env, Connect));
  exports.Set("getsockname", Napi::Function::New(env, GetSockName));
  exports.Set("sendmsg", Napi::Function::New(env, SendMsg));
  exports.Set("sendmsgAsync", Napi::Function::New(env, SendMsgAsync));
  exports.Set("recvmsg", Napi::Function::New(env, RecvMsgSync));
  exports.Set("ifNameToIndex", Napi::Function::New(env, IfNameToIndex));
  exports.Set("ifIndexToName", Napi::Function::New(env, IfIndexToName));
  exports.Set("Poller", Poller::Init(env));
  exports.Set("PeriodicSender", PeriodicSender::Init(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(lvsd_native, Init)

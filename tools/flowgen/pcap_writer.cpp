#include "tools/flowgen/pcap_writer.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "actors/common/byte_order.hpp"
#include "actors/replicator/udp_packet.hpp"

namespace tidewatch {

namespace {

constexpr uint32_t pcap_magic_us = 0xa1b2c3d4;
constexpr uint32_t linktype_ethernet = 1;
constexpr size_t ethernet_header_size = 14;
constexpr size_t ipv4_header_size = 20;
constexpr size_t ipv6_header_size = 40;
constexpr size_t udp_header_size = 8;
constexpr uint8_t ip_proto_udp = 17;

} // namespace

pcap_writer::pcap_writer(const std::string& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr)
    throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
  // The global header is written in host byte order, as libpcap does; readers
  // detect the order from the magic number.
  struct {
    uint32_t magic = pcap_magic_us;
    uint16_t major = 2;
    uint16_t minor = 4;
    int32_t thiszone = 0;
    uint32_t sigfigs = 0;
    uint32_t snaplen = 65535;
    uint32_t linktype = linktype_ethernet;
  } header;
  std::fwrite(&header, sizeof(header), 1, file_);
}

pcap_writer::~pcap_writer() {
  if (file_ != nullptr)
    std::fclose(file_);
}

void pcap_writer::write(const udp_endpoint& src, const udp_endpoint& dst,
                        std::span<const uint8_t> payload, int64_t time_us) {
  bool v4 = src.address.is_v4();
  size_t ip_size = v4 ? ipv4_header_size : ipv6_header_size;
  size_t udp_length = udp_header_size + payload.size();
  std::array<uint8_t, ethernet_header_size + ipv6_header_size + udp_header_size> h{};
  // Ethernet: locally administered MACs, EtherType IPv4 or IPv6.
  h[0] = 0x02;
  h[5] = 2;
  h[6] = 0x02;
  h[11] = 1;
  detail::store_be16(h.data() + 12, v4 ? 0x0800 : 0x86dd);
  uint8_t* ip = h.data() + ethernet_header_size;
  uint8_t* udp = ip + ip_size;
  // The UDP checksum covers a pseudo header of addresses, protocol and length.
  if (v4) {
    ip[0] = 0x45;
    detail::store_be16(ip + 2, uint16_t(ipv4_header_size + udp_length));
    detail::store_be16(ip + 4, ip_id_++);
    detail::store_be16(ip + 6, 0x4000); // don't fragment
    ip[8] = 64;
    ip[9] = ip_proto_udp;
    std::memcpy(ip + 12, src.address.bytes.data() + 12, 4);
    std::memcpy(ip + 16, dst.address.bytes.data() + 12, 4);
    uint16_t header_checksum = checksum_fold(checksum_add(0, ip, ipv4_header_size));
    std::memcpy(ip + 10, &header_checksum, 2);
  } else {
    ip[0] = 0x60;
    detail::store_be16(ip + 4, uint16_t(udp_length));
    ip[6] = ip_proto_udp;
    ip[7] = 64;
    std::memcpy(ip + 8, src.address.bytes.data(), 16);
    std::memcpy(ip + 24, dst.address.bytes.data(), 16);
  }
  detail::store_be16(udp, src.port);
  detail::store_be16(udp + 2, dst.port);
  detail::store_be16(udp + 4, uint16_t(udp_length));
  uint16_t checksum =
      udp_checksum(src.address, src.port, dst.address, dst.port,
                   checksum_add(0, payload.data(), payload.size()), uint32_t(payload.size()));
  std::memcpy(udp + 6, &checksum, 2);
  size_t frame = ethernet_header_size + ip_size + udp_header_size;
  struct {
    uint32_t secs;
    uint32_t usecs;
    uint32_t captured;
    uint32_t original;
  } record{uint32_t(time_us / 1'000'000), uint32_t(time_us % 1'000'000),
           uint32_t(frame + payload.size()), uint32_t(frame + payload.size())};
  std::fwrite(&record, sizeof(record), 1, file_);
  std::fwrite(h.data(), frame, 1, file_);
  std::fwrite(payload.data(), payload.size(), 1, file_);
  ++packets_;
}

void pcap_writer::close() {
  if (file_ == nullptr)
    return;
  bool failed = std::ferror(file_) != 0;
  failed |= std::fclose(file_) != 0;
  file_ = nullptr;
  if (failed)
    throw std::runtime_error("writing " + path_ + " failed");
}

} // namespace tidewatch

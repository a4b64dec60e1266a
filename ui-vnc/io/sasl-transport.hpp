// The SASL security layer: when SASL negotiated an SSF without TLS below,
// every byte after the SecurityResult goes through sasl_encode/sasl_decode.
// Bytes queued before the layer started (the last SASL step and the
// SecurityResult) still go out in plaintext: the plaintext budget.
#pragma once

#include <memory>
#include <string>

#include "sasl-server.hpp"
#include "transport.hpp"

namespace qvnc::io {

class SaslTransport final : public Transport {
public:
    SaslTransport(std::unique_ptr<Transport> inner, std::shared_ptr<crypto::SaslServer> sasl,
                  size_t plaintext_budget)
        : inner_(std::move(inner)), sasl_(std::move(sasl)), plain_budget_(plaintext_budget)
    {
    }

    IoResult read(std::span<uint8_t> buf) override;
    IoResult write(std::span<const uint8_t> buf) override;
    int fd() const override { return inner_->fd(); }
    bool has_buffered_input() const override;
    bool has_pending_output() const override { return sent_ < encoded_.size(); }
    void shutdown() override { inner_->shutdown(); }

private:
    IoResult flush_encoded();

    std::unique_ptr<Transport> inner_;
    std::shared_ptr<crypto::SaslServer> sasl_;
    size_t plain_budget_;
    std::string decoded_;  // decoded bytes not yet handed out
    size_t decoded_off_ = 0;
    std::string encoded_;  // encoded bytes not yet written
    size_t sent_ = 0;
};

} // namespace qvnc::io

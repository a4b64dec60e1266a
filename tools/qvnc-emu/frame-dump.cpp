#include "frame-dump.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace qvnc_emu {
namespace {

struct FileCloser {
    void operator()(std::FILE *f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

} // namespace

std::vector<uint8_t> encode_ppm(const Canvas &canvas)
{
    const std::string header =
        "P6\n" + std::to_string(canvas.width()) + " " + std::to_string(canvas.height()) + "\n255\n";
    std::vector<uint8_t> out;
    out.reserve(header.size() + static_cast<size_t>(canvas.width()) * static_cast<size_t>(canvas.height()) * 3);
    out.insert(out.end(), header.begin(), header.end());
    for (int y = 0; y < canvas.height(); ++y) {
        for (int x = 0; x < canvas.width(); ++x) {
            const Rgb px = canvas.get(x, y);
            out.push_back(px.r);
            out.push_back(px.g);
            out.push_back(px.b);
        }
    }
    return out;
}

bool write_file_atomically(const std::string &path, const std::vector<uint8_t> &data, std::string &error)
{
    const std::string tmp = path + ".tmp";
    {
        File f(std::fopen(tmp.c_str(), "wb"));
        if (!f) {
            error = tmp + ": " + std::strerror(errno);
            return false;
        }
        if (std::fwrite(data.data(), 1, data.size(), f.get()) != data.size() || std::fflush(f.get()) != 0) {
            error = tmp + ": " + std::strerror(errno);
            f.reset();
            std::remove(tmp.c_str());
            return false;
        }
        // fclose can still report a delayed write error (NFS, full disk).
        if (std::fclose(f.release()) != 0) {
            error = tmp + ": " + std::strerror(errno);
            std::remove(tmp.c_str());
            return false;
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        error = path + ": " + std::strerror(errno);
        std::remove(tmp.c_str());
        return false;
    }
    return true;
}

} // namespace qvnc_emu

# Dockerfile — smtpkit serve in a container, where people run Mailpit today:
#   docker build -t smtpkit . && docker run -p 1025:1025 -p 8025:8025 smtpkit
# SMTP on 1025, the web view and Mailpit's REST API on 8025 (docs/serve.md).
# Two stages: Debian 12 with the build tools makes the Debian package
# (`cpack -G DEB`); a slim Debian 12 installs it, with the shared libraries
# its package declares, and nothing else.

FROM debian:12 AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      cmake ninja-build g++ pkg-config dpkg-dev file \
      libboost-dev libssl-dev libfmt-dev libcli11-dev nlohmann-json3-dev libre2-dev libyaml-cpp-dev \
      libgmime-3.0-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSMTPKIT_TESTS=OFF -DSMTPKIT_BENCH=OFF \
 && cmake --build /build \
 && cd /build && cpack -G DEB -B /pkg

FROM debian:12-slim
COPY --from=build /pkg/*.deb /tmp/
RUN apt-get update \
 && apt-get install -y --no-install-recommends /tmp/smtpkit_*.deb \
 && rm -rf /var/lib/apt/lists/* /tmp/*.deb \
 && mkdir -p /var/lib/smtpkit/mail && chown nobody:nogroup /var/lib/smtpkit/mail
USER nobody
EXPOSE 1025 8025
ENTRYPOINT ["smtpkit"]
CMD ["serve", "--listen", "0.0.0.0:1025", "--http", "0.0.0.0:8025", "--maildir", "/var/lib/smtpkit/mail"]

// smtpkit/smtpkit.hpp — the whole grammar library in one include.
#pragma once

#include "smtpkit/ascii.hpp"
#include "smtpkit/command.hpp"
#include "smtpkit/data.hpp"
#include "smtpkit/error.hpp"
#include "smtpkit/escape.hpp"
#include "smtpkit/line.hpp"
#include "smtpkit/message.hpp"
#include "smtpkit/options.hpp"
#include "smtpkit/params.hpp"
#include "smtpkit/path.hpp"
#include "smtpkit/reply.hpp"
#include "smtpkit/transcript.hpp"
#include "smtpkit/utf8.hpp"

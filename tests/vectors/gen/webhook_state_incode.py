#!/usr/bin/env python3
"""Writes tests/vectors/{webhook,incode,state}.json.

Signatures and tokens are computed here with Python's hmac/hashlib, independently of the Rust
code under test; every other expectation is written out by hand.
"""
import base64
import copy
import datetime as dt
import hashlib
import hmac
import json
import sys
import urllib.parse

OUT = sys.argv[1] if len(sys.argv) > 1 else str(__import__("pathlib").Path(__file__).resolve().parents[1])
UTC = dt.timezone.utc


def ms(*parts):
    return int(dt.datetime(*parts, tzinfo=UTC).timestamp() * 1000)


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def mac(key, message):
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()


def hexsig(key, message):
    return mac(key, message).hex()


def b64(key, message):
    return base64.b64encode(mac(key, message)).decode()


def b64url(key, message):
    return base64.urlsafe_b64encode(mac(key, message)).decode()


SECRET = "whsec_5f2a9c0e7b1d4e63a8"
OTHER_SECRET = "whsec_not_the_right_one"
NOW = ms(2026, 11, 22, 10, 0, 5)
NOW_S = NOW // 1000
SESSION = "65f0c1d2e3a4b5c6d7e8f901"
IDENTITY = "65f0c1d2e3a4b5c6d7e8f9aa"

HMAC_HEX = {"mode": "hmac", "header": "x-incode-signature", "encoding": "hex",
            "timestampHeader": "", "toleranceSeconds": 300}
HMAC_B64 = dict(HMAC_HEX, encoding="base64")
HMAC_TS = dict(HMAC_HEX, timestampHeader="x-incode-timestamp")
SHARED = {"mode": "sharedSecret", "header": "x-incode-secret"}
OAUTH = {"mode": "oauth", "clientId": "incode-webhooks", "tokenTtlSeconds": 3600}

BODY = compact({"eventType": "SESSION_SUCCEEDED", "interviewId": SESSION,
                "identityId": IDENTITY, "loginHint": "jane.doe@example.com",
                "timestamp": "2026-11-22T10:00:00Z"})
EVENT = {"type": "succeeded", "sessionId": SESSION, "identityId": IDENTITY,
         "loginHint": "jane.doe@example.com", "rawType": "SESSION_SUCCEEDED",
         "occurredAtMs": ms(2026, 11, 22, 10, 0, 0)}
ACCEPTED = {"kind": "event", "event": EVENT}


def rejected(reason):
    return {"kind": "rejected", "status": 401, "reason": reason}


def invalid(reason):
    return {"kind": "invalid", "status": 400, "reason": reason}


def ignored(reason, raw_type):
    return {"kind": "ignored", "status": 202, "reason": reason, "rawType": raw_type}


def delivery(auth, headers, body=BODY, secret=SECRET, now=NOW):
    return [{"auth": auth, "secret": secret, "headers": headers, "body": body, "nowMs": now}]


def case(name, args, expect):
    return {"name": name, "args": args, "expect": expect}


def token(exp, secret=SECRET, client_id="incode-webhooks"):
    tag = base64.urlsafe_b64encode(
        mac(secret, f"incode-webhook-token|v1|{client_id}|{exp}")).decode().rstrip("=")
    return f"v1.{exp}.{tag}"


# ------------------------------------------------------------------------------------------
# webhook.json

sig = hexsig(SECRET, BODY)
ts = str(NOW_S - 10)
ts_ms = str(NOW - 2500)
receive = [
    # HMAC, accepted
    case("hmac hex lowercase", delivery(HMAC_HEX, {"x-incode-signature": sig}), ACCEPTED),
    case("hmac hex uppercase", delivery(HMAC_HEX, {"x-incode-signature": sig.upper()}), ACCEPTED),
    case("hmac header name in another case",
         delivery(HMAC_HEX, {"X-Incode-Signature": [sig]}), ACCEPTED),
    case("hmac sha256= prefix", delivery(HMAC_HEX, {"x-incode-signature": "sha256=" + sig}),
         ACCEPTED),
    case("hmac SHA256= prefix, uppercase digest",
         delivery(HMAC_HEX, {"x-incode-signature": "SHA256=" + sig.upper()}), ACCEPTED),
    case("hmac several comma-separated signatures, the second right (key rotation)",
         delivery(HMAC_HEX, {"x-incode-signature":
                             "sha256=" + hexsig(OTHER_SECRET, BODY) + ", sha256=" + sig}),
         ACCEPTED),
    case("hmac several header values, the last right",
         delivery(HMAC_HEX, {"x-incode-signature": [hexsig(OTHER_SECRET, BODY), sig]}),
         ACCEPTED),
    case("hmac base64 padded", delivery(HMAC_B64, {"x-incode-signature": b64(SECRET, BODY)}),
         ACCEPTED),
    case("hmac base64 without padding",
         delivery(HMAC_B64, {"x-incode-signature": b64(SECRET, BODY).rstrip("=")}), ACCEPTED),
    case("hmac base64url padded",
         delivery(HMAC_B64, {"x-incode-signature": b64url(SECRET, BODY)}), ACCEPTED),
    case("hmac base64url without padding, sha256= prefix",
         delivery(HMAC_B64, {"x-incode-signature": "sha256=" + b64url(SECRET, BODY).rstrip("=")}),
         ACCEPTED),
    case("hmac with timestamp in seconds",
         delivery(HMAC_TS, {"x-incode-signature": hexsig(SECRET, ts + "." + BODY),
                            "X-Incode-Timestamp": ts}), ACCEPTED),
    case("hmac with timestamp in milliseconds",
         delivery(HMAC_TS, {"x-incode-signature": hexsig(SECRET, ts_ms + "." + BODY),
                            "x-incode-timestamp": ts_ms}), ACCEPTED),
    case("hmac with timestamp at the edge of the window",
         delivery(HMAC_TS, {"x-incode-signature": hexsig(SECRET, str(NOW_S - 295) + "." + BODY),
                            "x-incode-timestamp": str(NOW_S - 295)}), ACCEPTED),
    # HMAC, rejected
    case("hmac body changed by one byte",
         delivery(HMAC_HEX, {"x-incode-signature": sig},
                  body=BODY.replace("SESSION_SUCCEEDED", "SESSION_SUCCEEDEE")),
         rejected("bad_signature")),
    case("hmac failure turned into success",
         delivery(HMAC_HEX,
                  {"x-incode-signature": hexsig(SECRET, BODY.replace("SUCCEEDED", "FAILED"))}),
         rejected("bad_signature")),
    case("hmac body with trailing newline added",
         delivery(HMAC_HEX, {"x-incode-signature": sig}, body=BODY + "\n"),
         rejected("bad_signature")),
    case("hmac signed with another secret",
         delivery(HMAC_HEX, {"x-incode-signature": hexsig(OTHER_SECRET, BODY)}),
         rejected("bad_signature")),
    case("hmac truncated signature",
         delivery(HMAC_HEX, {"x-incode-signature": sig[:40]}), rejected("malformed_signature")),
    case("hmac odd-length signature",
         delivery(HMAC_HEX, {"x-incode-signature": sig[:-1]}), rejected("malformed_signature")),
    case("hmac base64 signature when hex is configured",
         delivery(HMAC_HEX, {"x-incode-signature": b64(SECRET, BODY)}),
         rejected("malformed_signature")),
    case("hmac base64 truncated",
         delivery(HMAC_B64, {"x-incode-signature": b64(SECRET, BODY)[:30]}),
         rejected("malformed_signature")),
    case("hmac missing signature header", delivery(HMAC_HEX, {"x-other": sig}),
         rejected("missing_signature")),
    case("hmac empty signature header", delivery(HMAC_HEX, {"x-incode-signature": ["", " "]}),
         rejected("missing_signature")),
    case("hmac no secret configured",
         delivery(HMAC_HEX, {"x-incode-signature": hexsig("", BODY)}, secret=""),
         rejected("not_configured")),
    case("hmac stale timestamp (valid signature, replayed later)",
         delivery(HMAC_TS, {"x-incode-signature": hexsig(SECRET, str(NOW_S - 301) + "." + BODY),
                            "x-incode-timestamp": str(NOW_S - 301)}),
         rejected("stale_timestamp")),
    case("hmac timestamp too far in the future",
         delivery(HMAC_TS, {"x-incode-signature": hexsig(SECRET, str(NOW_S + 3600) + "." + BODY),
                            "x-incode-timestamp": str(NOW_S + 3600)}),
         rejected("stale_timestamp")),
    case("hmac timestamp changed after signing",
         delivery(HMAC_TS, {"x-incode-signature": hexsig(SECRET, str(NOW_S - 400) + "." + BODY),
                            "x-incode-timestamp": ts}),
         rejected("bad_signature")),
    case("hmac body-only signature when a timestamp is configured",
         delivery(HMAC_TS, {"x-incode-signature": sig, "x-incode-timestamp": ts}),
         rejected("bad_signature")),
    case("hmac missing timestamp header",
         delivery(HMAC_TS, {"x-incode-signature": hexsig(SECRET, ts + "." + BODY)}),
         rejected("missing_timestamp")),
    case("hmac non-numeric timestamp",
         delivery(HMAC_TS, {"x-incode-signature": hexsig(SECRET, "2026-11-22." + BODY),
                            "x-incode-timestamp": "2026-11-22"}),
         rejected("missing_timestamp")),
    case("rejection message names the header, never the secret or signature",
         delivery(HMAC_HEX, {"x-incode-signature": "0" * 64}),
         {"kind": "rejected", "status": 401, "reason": "bad_signature",
          "message": "The x-incode-signature signature does not match the body. Check that the "
                     "webhook secret is the signing secret of this webhook in the Incode "
                     "dashboard."}),
    case("hmac authenticates before parsing: a forged body that is not JSON",
         delivery(HMAC_HEX, {"x-incode-signature": sig}, body="not json"),
         rejected("bad_signature")),
    case("hmac authenticated body that is not JSON",
         delivery(HMAC_HEX, {"x-incode-signature": hexsig(SECRET, "not json")}, body="not json"),
         invalid("malformed_json")),
    # Shared secret
    case("shared secret accepted", delivery(SHARED, {"X-Incode-Secret": SECRET}), ACCEPTED),
    case("shared secret with surrounding whitespace",
         delivery(SHARED, {"x-incode-secret": [" " + SECRET + " "]}), ACCEPTED),
    case("shared secret wrong", delivery(SHARED, {"x-incode-secret": OTHER_SECRET}),
         rejected("bad_secret")),
    case("shared secret prefix only", delivery(SHARED, {"x-incode-secret": SECRET[:-1]}),
         rejected("bad_secret")),
    case("shared secret missing header", delivery(SHARED, {"authorization": SECRET}),
         rejected("missing_secret_header")),
    case("shared secret not configured",
         delivery(SHARED, {"x-incode-secret": ""}, secret=""), rejected("not_configured")),
    # OAuth bearer tokens issued by the token webtrigger
    case("oauth valid token",
         delivery(OAUTH, {"Authorization": "Bearer " + token(NOW_S + 1800)}), ACCEPTED),
    case("oauth valid token, lowercase scheme",
         delivery(OAUTH, {"authorization": ["bearer " + token(NOW_S + 1)]}), ACCEPTED),
    case("oauth token expired",
         delivery(OAUTH, {"authorization": "Bearer " + token(NOW_S - 1)}),
         rejected("token_expired")),
    case("oauth token expiring this second",
         delivery(OAUTH, {"authorization": "Bearer " + token(NOW_S)}),
         rejected("token_expired")),
    case("oauth token forged with another secret",
         delivery(OAUTH, {"authorization": "Bearer " + token(NOW_S + 1800, OTHER_SECRET)}),
         rejected("bad_token")),
    case("oauth token for another client id",
         delivery(OAUTH, {"authorization": "Bearer " + token(NOW_S + 1800,
                                                             client_id="someone-else")}),
         rejected("bad_token")),
    case("oauth expired token with its expiry pushed back",
         delivery(OAUTH, {"authorization": "Bearer " + token(NOW_S - 60).replace(
             f"v1.{NOW_S - 60}.", f"v1.{NOW_S + 600}.")}),
         rejected("bad_token")),
    case("oauth token valid for longer than any issued one",
         delivery(OAUTH, {"authorization": "Bearer " + token(NOW_S + 30 * 86400)}),
         rejected("bad_token")),
    case("oauth garbage token", delivery(OAUTH, {"authorization": "Bearer abc.def"}),
         rejected("bad_token")),
    case("oauth missing token", delivery(OAUTH, {"x-incode-secret": SECRET}),
         rejected("missing_token")),
    case("oauth basic credentials are not a token",
         delivery(OAUTH, {"authorization": "Basic " + base64.b64encode(
             f"incode-webhooks:{SECRET}".encode()).decode()}),
         rejected("missing_token")),
    case("oauth not configured",
         delivery(OAUTH, {"authorization": "Bearer " + token(NOW_S + 60, "")}, secret=""),
         rejected("not_configured")),
]


def parsed(name, body, expect):
    """An authenticated (shared secret) delivery, to exercise parsing."""
    if not isinstance(body, str):
        body = compact(body)
    return case(name, delivery(SHARED, {"x-incode-secret": SECRET}, body=body), expect)


def ev(kind, raw, session=SESSION, identity="", hint="", at=0):
    return {"kind": "event", "event": {"type": kind, "sessionId": session, "identityId": identity,
                                       "loginHint": hint, "rawType": raw, "occurredAtMs": at}}


receive += [
    parsed("SESSION_STARTED", {"eventType": "SESSION_STARTED", "interviewId": SESSION},
           ev("started", "SESSION_STARTED")),
    parsed("event_type session_progress",
           {"event_type": "session_progress", "interview_id": SESSION},
           ev("progress", "session_progress")),
    parsed("human name Session Succeeded",
           {"event": "Session Succeeded", "sessionId": SESSION, "identity_id": IDENTITY},
           ev("succeeded", "Session Succeeded", identity=IDENTITY)),
    parsed("type session-failed", {"type": "session-failed", "session_id": SESSION},
           ev("failed", "session-failed")),
    parsed("eventName SESSION_PENDING_REVIEW",
           {"eventName": "SESSION_PENDING_REVIEW", "onboardingId": SESSION},
           ev("pendingReview", "SESSION_PENDING_REVIEW")),
    parsed("name MANUAL_REVIEW", {"name": "MANUAL_REVIEW", "id": SESSION},
           ev("pendingReview", "MANUAL_REVIEW")),
    parsed("manual review required, dotted",
           {"eventType": "manual.review.required", "interviewId": SESSION},
           ev("pendingReview", "manual.review.required")),
    parsed("IDENTITY_ENROLLED nested in data",
           {"data": {"eventType": "IDENTITY_ENROLLED", "interviewId": SESSION,
                     "customerId": IDENTITY}},
           ev("identityEnrolled", "IDENTITY_ENROLLED", identity=IDENTITY)),
    parsed("MANUAL_REVIEW_APPROVED nested in payload",
           {"payload": {"eventType": "MANUAL_REVIEW_APPROVED", "interviewId": SESSION}},
           ev("reviewApproved", "MANUAL_REVIEW_APPROVED")),
    parsed("Manual Review Rejected",
           {"eventType": "Manual Review Rejected", "interviewId": SESSION},
           ev("reviewRejected", "Manual Review Rejected")),
    parsed("camelCase sessionSucceeded",
           {"eventType": "sessionSucceeded", "interviewId": SESSION},
           ev("succeeded", "sessionSucceeded")),
    parsed("a person's name does not hide the event",
           {"name": "Jane Doe", "data": {"eventType": "SESSION_FAILED"}, "interviewId": SESSION},
           ev("failed", "SESSION_FAILED")),
    parsed("SESSION_COMPLETED with onboardingResult OK",
           {"eventType": "SESSION_COMPLETED", "interviewId": SESSION, "onboardingResult": "OK"},
           ev("succeeded", "SESSION_COMPLETED")),
    parsed("SESSION_COMPLETED with result PASS",
           {"eventType": "SESSION_COMPLETED", "interviewId": SESSION, "result": "PASS"},
           ev("succeeded", "SESSION_COMPLETED")),
    parsed("SESSION_COMPLETED with success true",
           {"eventType": "SESSION_COMPLETED", "interviewId": SESSION, "success": True},
           ev("succeeded", "SESSION_COMPLETED")),
    parsed("SESSION_COMPLETED with success false",
           {"eventType": "SESSION_COMPLETED", "interviewId": SESSION, "success": False},
           ev("failed", "SESSION_COMPLETED")),
    parsed("SESSION_COMPLETED with status FAILED",
           {"eventType": "SESSION_COMPLETED", "interviewId": SESSION, "status": "FAILED"},
           ev("failed", "SESSION_COMPLETED")),
    parsed("SESSION_COMPLETED with overallStatus MANUAL_REVIEW",
           {"eventType": "SESSION_COMPLETED", "interviewId": SESSION,
            "overallStatus": "MANUAL_REVIEW"},
           ev("pendingReview", "SESSION_COMPLETED")),
    parsed("SESSION_COMPLETED with nested result object",
           {"eventType": "SESSION_COMPLETED", "data": {"interviewId": SESSION,
                                                        "overallStatus": {"status": "OK"}}},
           ev("succeeded", "SESSION_COMPLETED")),
    parsed("ONBOARDING_FINISHED with status APPROVED",
           {"eventType": "ONBOARDING_FINISHED", "interviewId": SESSION, "status": "APPROVED"},
           ev("succeeded", "ONBOARDING_FINISHED")),
    parsed("ONBOARDING_FINISHED with result REJECTED",
           {"eventType": "ONBOARDING_FINISHED", "interviewId": SESSION, "result": "REJECTED"},
           ev("failed", "ONBOARDING_FINISHED")),
    parsed("SESSION_COMPLETED with pending review",
           {"eventType": "SESSION_COMPLETED", "interviewId": SESSION, "result": "PENDING"},
           ev("pendingReview", "SESSION_COMPLETED")),
    # A completion is never lost: without a result it agrees on, it needs a review.
    parsed("SESSION_COMPLETED without a result needs review",
           {"eventType": "SESSION_COMPLETED", "interviewId": SESSION},
           ev("pendingReview", "SESSION_COMPLETED (no result)")),
    parsed("SESSION_COMPLETED with an unknown result needs review",
           {"eventType": "SESSION_COMPLETED", "interviewId": SESSION, "result": "WARN"},
           ev("pendingReview", "SESSION_COMPLETED (no result)")),
    parsed("SESSION_COMPLETED with conflicting results needs review",
           {"eventType": "SESSION_COMPLETED", "interviewId": SESSION, "result": "OK",
            "success": False},
           ev("pendingReview", "SESSION_COMPLETED (conflicting results)")),
    parsed("legacy onboardingStatus ONBOARDING_FINISHED with onboardingResult",
           {"interviewId": SESSION, "onboardingStatus": "ONBOARDING_FINISHED",
            "onboardingResult": "FAIL"},
           ev("failed", "ONBOARDING_FINISHED")),
    parsed("legacy onboardingStatus ONBOARDING_FINISHED with success",
           {"interviewId": SESSION, "onboardingStatus": "ONBOARDING_FINISHED", "success": True},
           ev("succeeded", "ONBOARDING_FINISHED")),
    parsed("legacy onboardingStatus MANUAL_REVIEW_APPROVED",
           {"interviewId": SESSION, "onboardingStatus": "MANUAL_REVIEW_APPROVED"},
           ev("reviewApproved", "MANUAL_REVIEW_APPROVED")),
    parsed("legacy onboardingStatus MANUAL_REVIEW_REJECTED",
           {"interviewId": SESSION, "onboardingStatus": "MANUAL_REVIEW_REJECTED"},
           ev("reviewRejected", "MANUAL_REVIEW_REJECTED")),
    parsed("legacy onboardingStatus that is itself a result",
           {"interviewId": SESSION, "onboardingStatus": "SUCCESS"},
           ev("succeeded", "SUCCESS")),
    parsed("legacy onboardingStatus ONBOARDING_FINISHED alone needs review",
           {"interviewId": SESSION, "onboardingStatus": "ONBOARDING_FINISHED"},
           ev("pendingReview", "ONBOARDING_FINISHED (no result)")),
    parsed("legacy intermediate onboardingStatus",
           {"interviewId": SESSION, "onboardingStatus": "ID_VALIDATION_FINISHED"},
           ignored("unknown_event", "ID_VALIDATION_FINISHED")),
    parsed("unknown event", {"eventType": "SESSION_EXPORTED", "interviewId": SESSION},
           ignored("unknown_event", "SESSION_EXPORTED")),
    parsed("no event at all", {"interviewId": SESSION, "hello": "world"},
           ignored("missing_event", "")),
    parsed("known event without a session", {"eventType": "SESSION_SUCCEEDED", "id": ""},
           invalid("missing_session")),
    parsed("not JSON", "{\"eventType\": ", invalid("malformed_json")),
    parsed("JSON array", "[{\"eventType\":\"SESSION_SUCCEEDED\"}]", invalid("malformed_json")),
    parsed("JSON string", "\"SESSION_SUCCEEDED\"", invalid("malformed_json")),
    parsed("numeric session id, email login hint, epoch seconds",
           {"eventType": "SESSION_STARTED", "interviewId": 123456789, "email": "a@b.co",
            "createdAt": NOW_S},
           ev("started", "SESSION_STARTED", session="123456789", hint="a@b.co", at=NOW_S * 1000)),
    parsed("login_hint, epoch milliseconds in a string",
           {"eventType": "SESSION_STARTED", "interviewId": SESSION, "login_hint": "a@b.co",
            "eventTime": str(NOW)},
           ev("started", "SESSION_STARTED", hint="a@b.co", at=NOW)),
    parsed("ISO time with an offset",
           {"eventType": "SESSION_STARTED", "interviewId": SESSION,
            "occurredAt": "2026-11-22T11:00:00.250+01:00"},
           ev("started", "SESSION_STARTED", at=ms(2026, 11, 22, 10, 0, 0) + 250)),
    parsed("unreadable time is 0",
           {"eventType": "SESSION_STARTED", "interviewId": SESSION, "timestamp": "yesterday"},
           ev("started", "SESSION_STARTED")),
    parsed("control and bidi characters dropped",
           {"eventType": "SESSION_STARTED\u0000", "interviewId": "abc\u0007def",
            "identityId": "id\u202etity", "loginHint": " a@b.co\r\n"},
           ev("started", "SESSION_STARTED", session="abcdef", identity="idtity", hint="a@b.co")),
    # Precedence (the rule is written on parse_event in rust/src/webhook.rs).
    parsed("precedence: a top-level id does not shadow data.interviewId",
           {"id": "evt_0001", "eventType": "SESSION_SUCCEEDED", "data": {"interviewId": SESSION}},
           ev("succeeded", "SESSION_SUCCEEDED")),
    parsed("precedence: a generic id is the session when nothing else names one",
           {"id": SESSION, "eventType": "SESSION_STARTED"},
           ev("started", "SESSION_STARTED")),
    parsed("precedence: dedicated session keys that disagree are refused",
           {"interviewId": SESSION, "eventType": "SESSION_SUCCEEDED",
            "data": {"sessionId": "65f0c1d2e3a4b5c6d7e8f999"}},
           invalid("conflicting_session")),
    parsed("precedence: an unknown eventType is not replaced by a type",
           {"eventType": "SESSION_ABANDONED", "type": "SESSION_SUCCEEDED", "interviewId": SESSION},
           ignored("unknown_event", "SESSION_ABANDONED")),
    parsed("precedence: an unknown eventType is not replaced by a nested event",
           {"eventType": "SESSION_ABANDONED", "data": {"eventType": "SESSION_SUCCEEDED"},
            "interviewId": SESSION},
           ignored("unknown_event", "SESSION_ABANDONED")),
    parsed("precedence: an unknown eventType is not replaced by an onboarding status",
           {"eventType": "SESSION_ABANDONED", "onboardingStatus": "ONBOARDING_FINISHED",
            "result": "OK", "interviewId": SESSION},
           ignored("unknown_event", "SESSION_ABANDONED")),
    parsed("precedence: a nested eventType wins over a top-level type",
           {"type": "webhook", "data": {"eventType": "SESSION_FAILED", "interviewId": SESSION}},
           ev("failed", "SESSION_FAILED")),
    parsed("precedence: an unknown type is not replaced by a name",
           {"type": "SESSION_ABANDONED", "name": "SESSION_SUCCEEDED", "interviewId": SESSION},
           ignored("unknown_event", "SESSION_ABANDONED")),
    parsed("precedence: onboardingStatus before a person's name",
           {"name": "Jane Doe", "interviewId": SESSION, "onboardingStatus": "MANUAL_REVIEW_REJECTED"},
           ev("reviewRejected", "MANUAL_REVIEW_REJECTED")),
    parsed("precedence: a person's name alone is an unknown event",
           {"name": "Jane Doe", "interviewId": SESSION},
           ignored("unknown_event", "Jane Doe")),
    parsed("ids capped at 200 characters",
           {"eventType": "SESSION_STARTED", "interviewId": "s" * 300},
           ev("started", "SESSION_STARTED", session="s" * 200)),
]

basic_ok = "Basic " + base64.b64encode(f"incode-webhooks:{SECRET}".encode()).decode()
form_creds = urllib.parse.urlencode({"grant_type": "client_credentials",
                                     "client_id": "incode-webhooks", "client_secret": SECRET})


def token_ok(ttl, exp):
    return {"status": 200, "body": compact({"access_token": token(exp), "token_type": "Bearer",
                                            "expires_in": ttl})}


def token_err(status, error):
    return {"status": status}, error


def issue(name, auth, secret, authorization, body, expect, now=NOW):
    return case(name, [auth, secret, authorization, body, now], expect)


def err(status, error, description):
    return {"status": status, "body": compact({"error": error, "error_description": description})}


issue_cases = [
    issue("basic client authentication", OAUTH, SECRET, basic_ok, "grant_type=client_credentials",
          token_ok(3600, NOW_S + 3600)),
    issue("form client authentication with scope", OAUTH, SECRET, "",
          form_creds + "&scope=webhooks", token_ok(3600, NOW_S + 3600)),
    issue("lifetime below the minimum is raised to 60 s", dict(OAUTH, tokenTtlSeconds=10),
          SECRET, basic_ok, "grant_type=client_credentials", token_ok(60, NOW_S + 60)),
    issue("basic with a raw secret holding + and %", OAUTH, "s+cr%t/0123456789ab", "Basic " +
          base64.b64encode(b"incode-webhooks:s+cr%t/0123456789ab").decode(),
          "grant_type=client_credentials", {"status": 200}),
    issue("basic with the secret form-encoded (RFC 6749 2.3.1)", OAUTH, "s+cr%t/0123456789ab",
          "Basic " + base64.b64encode(("incode-webhooks:" +
                                       urllib.parse.quote_plus("s+cr%t/0123456789ab")).encode())
          .decode(), "grant_type=client_credentials", {"status": 200}),
    issue("a weak stored secret issues no token", OAUTH, "abc", "Basic " +
          base64.b64encode(b"incode-webhooks:abc").decode(), "grant_type=client_credentials",
          {"status": 400}),
    issue("wrong client secret", OAUTH, SECRET,
          "Basic " + base64.b64encode(f"incode-webhooks:{OTHER_SECRET}".encode()).decode(),
          "grant_type=client_credentials",
          err(401, "invalid_client", "Client authentication failed.")),
    issue("wrong client id", OAUTH, SECRET, "",
          urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": "incode",
                                  "client_secret": SECRET}),
          err(401, "invalid_client", "Client authentication failed.")),
    issue("no client authentication", OAUTH, SECRET, "", "grant_type=client_credentials",
          err(401, "invalid_client",
              "Client authentication is required: HTTP Basic or client_id and client_secret.")),
    issue("malformed basic header", OAUTH, SECRET, "Basic %%%", "grant_type=client_credentials",
          err(401, "invalid_client",
              "The Authorization header is not valid HTTP Basic client authentication.")),
    issue("two authentication methods", OAUTH, SECRET, basic_ok, form_creds,
          err(400, "invalid_request",
              "The client authenticated in the Authorization header and in the body; use one.")),
    issue("unsupported grant type", OAUTH, SECRET, basic_ok, "grant_type=password",
          err(400, "unsupported_grant_type", "Only the client_credentials grant is supported.")),
    issue("missing grant type", OAUTH, SECRET, basic_ok, "scope=openid",
          err(400, "invalid_request", "The grant_type parameter is missing.")),
    issue("repeated parameter", OAUTH, SECRET, basic_ok,
          "grant_type=client_credentials&grant_type=client_credentials",
          err(400, "invalid_request", "The grant_type parameter is repeated.")),
    issue("bad form encoding", OAUTH, SECRET, basic_ok, "grant_type=client%2",
          err(400, "invalid_request", "The request body is not valid form encoding.")),
    issue("mode is not oauth", HMAC_HEX, SECRET, basic_ok, "grant_type=client_credentials",
          err(400, "unsupported",
              "Token issuance is off: the webhook authentication mode is not OAuth.")),
    issue("secret not configured", OAUTH, "", basic_ok, "grant_type=client_credentials",
          err(400, "unsupported",
              "Token issuance is off: the OAuth client id or secret is not configured.")),
]

webhook = {"groups": [
    {"function": "receiveWebhook", "cases": receive},
    {"function": "issueWebhookToken", "cases": issue_cases},
]}

# ------------------------------------------------------------------------------------------
# incode.json

PASSED_TEMPLATE = ("Verification passed for {{name}} ({{email}}). Identity ID: {{identityId}}. "
                   "{{status}}. Requested by {{agent}} by {{delivery}} at {{time}}.")
SETTINGS = {
    "environment": "demo",
    "baseUrlOverride": "",
    "clientId": "jsm-client",
    "integrationReference": "b2b-int-42",
    "configurationId": "",
    "linkExpiryMinutes": 10,
    "defaultDelivery": "SMS",
    "transitions": {"passed": "Verified", "failed": "Escalate", "manualReview": " "},
    "templates": {"passed": PASSED_TEMPLATE, "failed": "Verification failed for {{email}}.",
                  "manualReview": ""},
    "commentVisibility": "internal",
    "webhookAuth": HMAC_HEX,
    "agentGroups": [],
    "personField": "reporter",
    "limits": {"perTicketPerHour": 5, "perAgentPerHour": 20},
    "portalEnabled": False,
}
PRODUCTION = dict(SETTINGS, environment="production", configurationId="cfg-7",
                  linkExpiryMinutes=30)
SECRETS = {"apiKey": "ak_demo_1234", "clientSecret": "cs&secret =1/+", "webhookSecret": SECRET}
NO_KEY = dict(SECRETS, apiKey="")
ACCESS = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJqc20ifQ.c2ln"


def start_body(hint, notification, minutes=10, ref="b2b-int-42", configuration=None):
    body = {"integrationReference": ref, "loginHint": hint, "linkValidityInMinutes": minutes,
            "notification": notification}
    if configuration:
        body["configurationId"] = configuration
    return compact(body)


def start_headers():
    return {"Authorization": "Bearer " + ACCESS, "x-api-key": "ak_demo_1234",
            "api-version": "1.0", "Content-Type": "application/json",
            "Accept": "application/json"}


def ok(value):
    return {"ok": True, "value": value}


def fail(code, retryable=False, message=None):
    error = {"code": code, "retryable": retryable}
    if message is not None:
        error["message"] = message
    return {"ok": False, "error": error}


def answer(status, body):
    return {"status": status, "body": body if isinstance(body, str) else compact(body)}


def start_input(email, delivery, phone="", alternate=""):
    return {"email": email, "delivery": delivery, "phone": phone, "alternateEmail": alternate}


DEMO_START = "https://demo-api.incodesmile.com/omni/b2b/onboarding/request-new"
incode = {"groups": [
    {"function": "tokenRequest", "cases": [
        case("demo token request", [SETTINGS, SECRETS], {
            "method": "POST", "url": "https://auth.demo.incode.com/oauth2/token",
            "headers": {"Content-Type": "application/x-www-form-urlencoded",
                        "Accept": "application/json"},
            "body": urllib.parse.urlencode({"grant_type": "client_credentials",
                                            "client_id": "jsm-client",
                                            "client_secret": "cs&secret =1/+",
                                            "scope": "openid"})}),
        case("production token request", [PRODUCTION, SECRETS],
             {"method": "POST", "url": "https://auth.incode.com/oauth2/token"}),
    ]},
    {"function": "parseToken", "cases": [
        case("token with expires_in", [answer(200, {"access_token": ACCESS, "token_type":
                                                    "Bearer", "expires_in": 3600}), NOW],
             ok({"accessToken": ACCESS, "refreshAtMs": NOW + 3240 * 1000})),
        case("expires_in as a string, 10 minutes: 60 s margin",
             [answer(200, {"access_token": ACCESS, "expires_in": "600"}), NOW],
             ok({"accessToken": ACCESS, "refreshAtMs": NOW + 540 * 1000})),
        case("no expires_in: one hour assumed",
             [answer(200, {"access_token": ACCESS}), NOW],
             ok({"accessToken": ACCESS, "refreshAtMs": NOW + 3240 * 1000})),
        case("very short lifetime: used for 5 s",
             [answer(200, {"access_token": ACCESS, "expires_in": 20}), NOW],
             ok({"accessToken": ACCESS, "refreshAtMs": NOW + 5000})),
        case("no access_token", [answer(200, {"token_type": "Bearer"}), NOW],
             fail("bad_response")),
        case("garbage", [answer(200, "<html>oops</html>"), NOW], fail("bad_response")),
        case("400 invalid_client", [answer(400, {"error": "invalid_client"}), NOW],
             fail("bad_credentials")),
        case("401", [answer(401, ""), NOW], fail("bad_credentials")),
        case("404 wrong host", [answer(404, ""), NOW], fail("incode_not_found")),
        case("429", [answer(429, ""), NOW], fail("rate_limited", True)),
        case("500", [answer(500, "upstream error"), NOW], fail("incode_unavailable", True)),
    ]},
    {"function": "startRequest", "cases": [
        case("SMS to a given phone", [SETTINGS, SECRETS, ACCESS,
                                      start_input(" Jane.Doe@Example.COM ", "SMS",
                                                  phone="+1 (415) 555-1234")],
             ok({"method": "POST", "url": DEMO_START, "headers": start_headers(),
                 "body": start_body("Jane.Doe@example.com",
                                    {"type": "SMS", "phone": "+14155551234"})})),
        case("SMS to the phone on file", [SETTINGS, SECRETS, ACCESS,
                                          start_input("jane.doe@example.com", "SMS")],
             ok({"body": start_body("jane.doe@example.com", {"type": "SMS"})})),
        case("EMAIL to the corporate address", [SETTINGS, SECRETS, ACCESS,
                                                start_input("jane.doe@example.com", "EMAIL",
                                                            phone="ignored")],
             ok({"body": start_body("jane.doe@example.com",
                                    {"type": "EMAIL", "email": "jane.doe@example.com"})})),
        case("EMAIL to an alternate address, production, configuration id",
             [PRODUCTION, SECRETS, ACCESS,
              start_input("jane.doe@example.com", "EMAIL", alternate="Jane@Home.Example.org")],
             ok({"url": "https://saas-api.incodesmile.com/omni/b2b/onboarding/request-new",
                 "body": start_body("jane.doe@example.com",
                                    {"type": "EMAIL", "email": "Jane@home.example.org"},
                                    minutes=30, configuration="cfg-7")})),
        case("invalid email", [SETTINGS, SECRETS, ACCESS, start_input("jane.doe", "SMS")],
             fail("invalid_email")),
        case("email with two @", [SETTINGS, SECRETS, ACCESS,
                                  start_input("jane@doe@example.com", "EMAIL")],
             fail("invalid_email")),
        case("email too long", [SETTINGS, SECRETS, ACCESS,
                                start_input("a" * 250 + "@example.com", "EMAIL")],
             fail("invalid_email")),
        case("phone without country code", [SETTINGS, SECRETS, ACCESS,
                                            start_input("jane@example.com", "SMS",
                                                        phone="415 555 1234")],
             fail("invalid_phone")),
        case("phone with letters", [SETTINGS, SECRETS, ACCESS,
                                    start_input("jane@example.com", "SMS",
                                                phone="+1 415 CALL NOW")],
             fail("invalid_phone")),
        case("invalid alternate email", [SETTINGS, SECRETS, ACCESS,
                                         start_input("jane@example.com", "EMAIL",
                                                     alternate="jane at home")],
             fail("invalid_alternate_email")),
        case("no API key", [SETTINGS, NO_KEY, ACCESS, start_input("jane@example.com", "SMS")],
             fail("not_configured")),
        case("no integration reference",
             [dict(SETTINGS, integrationReference=""), SECRETS, ACCESS,
              start_input("jane@example.com", "SMS")],
             fail("not_configured")),
        case("no access token", [SETTINGS, SECRETS, "", start_input("jane@example.com", "SMS")],
             fail("not_configured")),
    ]},
    {"function": "parseStart", "cases": [
        case("success", [answer(200, {"interviewId": SESSION,
                                      "url": "https://demo.incode.id/?a=1&interviewId=" + SESSION})],
             ok({"sessionId": SESSION,
                 "url": "https://demo.incode.id/?a=1&interviewId=" + SESSION})),
        case("success with sessionId and link", [answer(201, {"sessionId": "s-1",
                                                              "link": "https://l.incode.id/s-1"})],
             ok({"sessionId": "s-1", "url": "https://l.incode.id/s-1"})),
        case("employee not in the directory (4301)",
             [answer(400, {"timestamp": NOW, "status": 4301, "error": "Bad Request",
                           "message": "Login hint not found", "path": "/omni/b2b"})],
             fail("employee_not_found", False,
                  "This email is not in your Incode employee directory. Check the address, or "
                  "ask an Incode administrator to add the employee to the directory.")),
        case("employee not in the directory (message only)",
             [answer(404, {"message": "Employee not found in directory"})],
             fail("employee_not_found")),
        case("401", [answer(401, {"error": "Unauthorized"})], fail("bad_credentials")),
        case("401 saying user not found is about the API client",
             [answer(401, {"message": "User not found"})], fail("bad_credentials")),
        case("403", [answer(403, "")], fail("bad_credentials")),
        case("404", [answer(404, {"status": 404, "error": "Not Found",
                                  "path": "/omni/b2b/onboarding/request-new"})],
             fail("incode_not_found")),
        case("429", [answer(429, "")], fail("rate_limited", True)),
        case("500", [answer(500, {"error": "Internal Server Error"})],
             fail("incode_unavailable", True)),
        case("503 HTML", [answer(503, "<html>Service Unavailable</html>")],
             fail("incode_unavailable", True)),
        case("other 4xx carries Incode's message",
             [answer(400, {"status": 400, "error": "Bad Request",
                           "message": "Integration reference\n is invalid"})],
             fail("incode_rejected", False,
                  "Incode refused the request (HTTP 400): Integration reference is invalid "
                  "(Bad Request)")),
        case("garbage 200", [answer(200, "OK")], fail("bad_response")),
        case("200 without a link", [answer(200, {"interviewId": SESSION})],
             fail("bad_response")),
        case("200 with a script link", [answer(200, {"interviewId": SESSION,
                                                     "url": "javascript:alert(1)"})],
             fail("bad_response")),
    ]},
]}

# ------------------------------------------------------------------------------------------
# state.json

T0 = ms(2026, 11, 22, 10, 0, 0)


def stamp(label, at):
    return label + " - " + dt.datetime.fromtimestamp(at / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def utc_words(at):
    return dt.datetime.fromtimestamp(at / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S") + " UTC"


BASE = {
    "id": "ver-0001", "sessionId": SESSION, "issueKey": "HD-42", "issueId": "10042",
    "email": "jane.doe@example.com", "name": "Jane Doe", "delivery": "SMS",
    "destination": "+1 •••• •• 1234", "requestedBy": "5b10ac8d82e05b22cc7d4ef5",
    "requestedByName": "Sam Agent", "requestedAtMs": T0, "expiresAtMs": T0 + 600_000,
    "status": "requested", "statusText": stamp("Requested", T0), "updatedAtMs": T0,
    "identityId": "", "history": [{"status": "requested", "atMs": T0, "cause": "sent"}],
    "appliedEvents": [],
}


def verification(**changes):
    v = copy.deepcopy(BASE)
    v.update(changes)
    return v


def moved(v, status, label, at, cause, key=None, identity=None):
    v = copy.deepcopy(v)
    v["status"] = status
    v["statusText"] = stamp(label, at)
    v["updatedAtMs"] = at
    v["history"].append({"status": status, "atMs": at, "cause": cause})
    if key:
        v["appliedEvents"].append(f"{SESSION}:{key}")
    if identity:
        v["identityId"] = identity
    return v


def incode_event(kind, raw, session=SESSION, identity="", hint=""):
    return {"type": kind, "sessionId": session, "identityId": identity, "loginHint": hint,
            "rawType": raw, "occurredAtMs": 0}


def realtime(v):
    return {"channel": "incode-verification:10042",
            "payload": compact({"verificationId": v["id"], "sessionId": v["sessionId"],
                                "status": v["status"], "statusText": v["statusText"],
                                "updatedAtMs": v["updatedAtMs"]})}


PROPERTY = {"method": "PUT", "path": "/rest/api/3/issue/HD-42/properties/incode-verification"}
COMMENT_PATH = "/rest/api/3/issue/HD-42/comment"

T1, T2, T3 = T0 + 45_000, T0 + 95_000, T0 + 130_000
REQUESTED = verification()
IN_PROGRESS = moved(REQUESTED, "inProgress", "In Progress", T1, "SESSION_STARTED", "started")
PASSED = moved(IN_PROGRESS, "passed", "Success", T2, "SESSION_SUCCEEDED", "succeeded", IDENTITY)
FAILED = moved(IN_PROGRESS, "failed", "Failed", T2, "SESSION_FAILED", "failed")
REVIEW = moved(IN_PROGRESS, "manualReview", "Pending Review", T2, "SESSION_PENDING_REVIEW",
               "pendingReview")
EXPIRED = verification(status="expired", statusText=stamp("Expired", T0 + 600_000),
                       updatedAtMs=T0 + 700_000,
                       history=BASE["history"] + [{"status": "expired", "atMs": T0 + 600_000,
                                                   "cause": "link expired"}])
CANCELLED = moved(REQUESTED, "cancelled", "Cancelled", T1, "cancelled by Sam Agent")

passed_text = (f"Verification passed for Jane Doe (jane.doe@example.com). Identity ID: "
               f"{IDENTITY}. {PASSED['statusText']}. Requested by Sam Agent by SMS at "
               f"{utc_words(T2)}.")
passed_comment_body = compact({
    "body": {"type": "doc", "version": 1,
             "content": [{"type": "paragraph", "content": [{"type": "text", "text": passed_text}]}]},
    "properties": [{"key": "sd.public.comment", "value": {"internal": True}}],
})


def applied(key, v, outcome=None, comment=None, transition=None):
    return {"kind": "applied", "idempotencyKey": f"{SESSION}:{key}", "verification": v,
            "actions": {"outcome": outcome, "comment": comment, "transitionName": transition,
                        "property": PROPERTY, "realtime": realtime(v)}}


def ignored_decision(reason, v):
    return {"kind": "ignored", "reason": reason, "verification": v}


def apply_case(name, v, event, now, expect, settings=SETTINGS):
    return case(name, [settings, v, event, now], expect)


REVIEW_APPROVED = moved(REVIEW, "passed", "Success", T3, "MANUAL_REVIEW_APPROVED",
                        "reviewApproved")
REVIEW_REJECTED = moved(REVIEW, "failed", "Failed", T3, "MANUAL_REVIEW_REJECTED",
                        "reviewRejected")
ENROLLED = copy.deepcopy(IN_PROGRESS)
ENROLLED["updatedAtMs"] = T2
ENROLLED["identityId"] = IDENTITY
ENROLLED["history"].append({"status": "inProgress", "atMs": T2, "cause": "IDENTITY_ENROLLED"})
ENROLLED["appliedEvents"].append(f"{SESSION}:identityEnrolled")
PUBLIC = dict(SETTINGS, commentVisibility="public", transitions={
    "passed": "", "failed": "  Escalate to security  ", "manualReview": "Pending"})

apply_cases = [
    apply_case("started moves requested to in progress", REQUESTED,
               incode_event("started", "SESSION_STARTED"), T1,
               applied("started", IN_PROGRESS)),
    apply_case("progress also moves requested to in progress", REQUESTED,
               incode_event("progress", "SESSION_PROGRESS"), T1,
               applied("progress", moved(REQUESTED, "inProgress", "In Progress", T1,
                                         "SESSION_PROGRESS", "progress"))),
    apply_case("succeeded: passed, comment, transition, property, realtime", IN_PROGRESS,
               incode_event("succeeded", "SESSION_SUCCEEDED", identity=IDENTITY), T2,
               applied("succeeded", PASSED, "passed",
                       {"method": "POST", "path": COMMENT_PATH, "body": passed_comment_body},
                       "Verified")),
    apply_case("failed: failed, comment, transition", IN_PROGRESS,
               incode_event("failed", "SESSION_FAILED"), T2,
               applied("failed", FAILED, "failed", {"method": "POST", "path": COMMENT_PATH},
                       "Escalate")),
    apply_case("pending review: manual review, default template, blank transition is none",
               IN_PROGRESS, incode_event("pendingReview", "SESSION_PENDING_REVIEW"), T2,
               applied("pendingReview", REVIEW, "manualReview",
                       {"method": "POST", "path": COMMENT_PATH}, None)),
    apply_case("review approved after manual review", REVIEW,
               incode_event("reviewApproved", "MANUAL_REVIEW_APPROVED"), T3,
               applied("reviewApproved", REVIEW_APPROVED, "passed",
                       {"method": "POST", "path": COMMENT_PATH}, "Verified")),
    apply_case("review rejected after manual review", REVIEW,
               incode_event("reviewRejected", "MANUAL_REVIEW_REJECTED"), T3,
               applied("reviewRejected", REVIEW_REJECTED, "failed",
                       {"method": "POST", "path": COMMENT_PATH}, "Escalate")),
    apply_case("public comment, trimmed transition name", IN_PROGRESS,
               incode_event("failed", "SESSION_FAILED"), T2,
               applied("failed", FAILED, "failed", {"method": "POST", "path": COMMENT_PATH},
                       "Escalate to security"), settings=PUBLIC),
    apply_case("blank passed transition means none", IN_PROGRESS,
               incode_event("succeeded", "SESSION_SUCCEEDED", identity=IDENTITY), T2,
               applied("succeeded", PASSED, "passed", {"method": "POST", "path": COMMENT_PATH},
                       None), settings=PUBLIC),
    apply_case("identity enrolled records the identity only", IN_PROGRESS,
               incode_event("identityEnrolled", "IDENTITY_ENROLLED", identity=IDENTITY), T2,
               applied("identityEnrolled", ENROLLED)),
    apply_case("a pass after the link expired is kept, not applied", EXPIRED,
               incode_event("succeeded", "SESSION_SUCCEEDED"), T3,
               {"kind": "late", "idempotencyKey": f"{SESSION}:succeeded", "reason": "afterExpiry",
                "verification": dict(copy.deepcopy(EXPIRED),
                                     appliedEvents=EXPIRED["appliedEvents"] + [f"{SESSION}:succeeded"],
                                     lateResults=[{"outcome": "passed", "event": "SESSION_SUCCEEDED",
                                                   "reason": "afterExpiry", "atMs": T3}])}),
    apply_case("a requested link past its expiry keeps a late result too", REQUESTED,
               incode_event("failed", "SESSION_FAILED"), REQUESTED["expiresAtMs"],
               {"kind": "late", "reason": "afterExpiry",
                "verification": {"status": "requested", "lateResults": [
                    {"outcome": "failed", "event": "SESSION_FAILED", "reason": "afterExpiry",
                     "atMs": REQUESTED["expiresAtMs"]}]}}),
    apply_case("an expired link that is opened late stays expired", EXPIRED,
               incode_event("progress", "SESSION_PROGRESS"), T3,
               ignored_decision("afterExpiry", EXPIRED)),
    apply_case("duplicate delivery", PASSED,
               incode_event("succeeded", "SESSION_SUCCEEDED", identity=IDENTITY), T3,
               ignored_decision("duplicate", PASSED)),
    apply_case("duplicate start", IN_PROGRESS, incode_event("started", "SESSION_STARTED"), T2,
               ignored_decision("duplicate", IN_PROGRESS)),
    apply_case("failure after success is ignored", PASSED,
               incode_event("failed", "SESSION_FAILED"), T3,
               ignored_decision("afterFinal", PASSED)),
    apply_case("success after failure is ignored", FAILED,
               incode_event("succeeded", "SESSION_SUCCEEDED"), T3,
               ignored_decision("afterFinal", FAILED)),
    apply_case("review approval after failure is ignored", FAILED,
               incode_event("reviewApproved", "MANUAL_REVIEW_APPROVED"), T3,
               ignored_decision("afterFinal", FAILED)),
    apply_case("identity enrolled after a success that has an identity id is ignored", PASSED,
               incode_event("identityEnrolled", "IDENTITY_ENROLLED", identity="other"), T3,
               ignored_decision("afterFinal", PASSED)),
    apply_case("identity enrolled after a success without an identity id records it",
               {**PASSED, "identityId": ""},
               incode_event("identityEnrolled", "IDENTITY_ENROLLED", identity="ident-late"), T3,
               {"kind": "applied",
                "verification": {"status": "passed", "statusText": PASSED["statusText"],
                                 "identityId": "ident-late"},
                "actions": {"outcome": None, "comment": None, "transitionName": None}}),
    # Nothing opens after a cancel or an expiry: the result is kept beside the record.
    apply_case("success after cancellation is kept, not applied", CANCELLED,
               incode_event("succeeded", "SESSION_SUCCEEDED"), T3,
               {"kind": "late", "idempotencyKey": f"{SESSION}:succeeded", "reason": "afterCancel",
                "verification": dict(copy.deepcopy(CANCELLED),
                                     appliedEvents=CANCELLED["appliedEvents"] + [f"{SESSION}:succeeded"],
                                     lateResults=[{"outcome": "passed", "event": "SESSION_SUCCEEDED",
                                                   "reason": "afterCancel", "atMs": T3}])}),
    apply_case("a start after cancellation is ignored", CANCELLED,
               incode_event("started", "SESSION_STARTED"), T3,
               ignored_decision("afterFinal", CANCELLED)),
    apply_case("a login hint naming someone else is refused", IN_PROGRESS,
               incode_event("succeeded", "SESSION_SUCCEEDED", hint="mallory@example.com"), T2,
               {"kind": "refused", "reason": "loginHintMismatch", "verification": IN_PROGRESS}),
    apply_case("a login hint in another case is the same person", IN_PROGRESS,
               incode_event("failed", "SESSION_FAILED", hint="  Jane.Doe@EXAMPLE.com "), T2,
               {"kind": "applied", "verification": {"status": "failed"}}),
    apply_case("progress while in progress", IN_PROGRESS,
               incode_event("progress", "SESSION_PROGRESS"), T2,
               ignored_decision("progress", IN_PROGRESS)),
    apply_case("late start during manual review", REVIEW,
               incode_event("started", "SESSION_STARTED"), T3,
               ignored_decision("duplicate", REVIEW)),
    apply_case("progress during manual review", REVIEW,
               incode_event("progress", "SESSION_PROGRESS"), T3,
               ignored_decision("progress", REVIEW)),
    apply_case("event for another session", IN_PROGRESS,
               incode_event("succeeded", "SESSION_SUCCEEDED", session="another-session"), T2,
               ignored_decision("notApplicable", IN_PROGRESS)),
]

status_cases = [
    case(f"{status} text", [status, T0], stamp(label, T0))
    for status, label in [("requested", "Requested"), ("inProgress", "In Progress"),
                          ("passed", "Success"), ("failed", "Failed"),
                          ("manualReview", "Pending Review"), ("expired", "Expired"),
                          ("cancelled", "Cancelled")]
] + [case("the epoch", ["passed", 0], "Success - 1970-01-01 00:00:00")]

NEW_INPUT = {
    "id": "ver-0001", "session": {"sessionId": SESSION, "url": "https://demo.incode.id/x"},
    "issueKey": "HD-42", "issueId": "10042", "email": "jane.doe@example.com",
    "name": "Jane Doe", "delivery": "SMS", "phone": "+1 415 555 1234", "alternateEmail": "",
    "requestedBy": "5b10ac8d82e05b22cc7d4ef5", "requestedByName": "Sam Agent", "nowMs": T0,
    "linkExpiryMinutes": 10,
}
new_cases = [
    case("SMS to a given phone", [NEW_INPUT], REQUESTED),
    case("SMS to the phone on file", [dict(NEW_INPUT, phone="")],
         verification(destination="phone on file")),
    case("UK phone masked", [dict(NEW_INPUT, phone="+44 20 7946 0958")],
         {"destination": "+44 •••• •• 0958"}),
    case("EMAIL to the corporate address", [dict(NEW_INPUT, delivery="EMAIL", phone="")],
         verification(delivery="EMAIL", destination="jane.doe@example.com")),
    case("EMAIL to an alternate address, 30 minutes",
         [dict(NEW_INPUT, delivery="EMAIL", alternateEmail="jane@home.example",
               linkExpiryMinutes=30)],
         verification(delivery="EMAIL", destination="jane@home.example",
                      expiresAtMs=T0 + 1_800_000)),
]

expire_cases = [
    case("not yet due", [REQUESTED, T0 + 599_999], None),
    case("due", [REQUESTED, T0 + 700_000], EXPIRED),
    case("an opened link does not expire", [IN_PROGRESS, T0 + 9_000_000], None),
    case("already expired", [EXPIRED, T0 + 9_000_000], None),
]

cancel_cases = [
    case("cancel a requested verification", [REQUESTED, T1, "Sam Agent"], ok(CANCELLED)),
    case("cancel during manual review", [REVIEW, T3, "Sam Agent"],
         ok(moved(REVIEW, "cancelled", "Cancelled", T3, "cancelled by Sam Agent"))),
    case("cancel an expired verification", [EXPIRED, T3, "Sam Agent"],
         ok(moved(EXPIRED, "cancelled", "Cancelled", T3, "cancelled by Sam Agent"))),
    case("cannot cancel a passed verification", [PASSED, T3, "Sam Agent"],
         fail("already_final")),
    case("cannot cancel twice", [CANCELLED, T3, "Sam Agent"], fail("already_final")),
]

state = {"groups": [
    {"function": "statusText", "cases": status_cases},
    {"function": "newVerification", "cases": new_cases},
    {"function": "Core#applyEvent", "cases": apply_cases},
    {"function": "expireIfDue", "cases": expire_cases},
    {"function": "cancelVerification", "cases": cancel_cases},
]}

for name, data in [("webhook", webhook), ("incode", incode), ("state", state)]:
    with open(f"{OUT}/{name}.json", "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(name, sum(len(g["cases"]) for g in data["groups"]), "cases")

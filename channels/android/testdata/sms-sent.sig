# computed with Python's hmac, independently of verify.go: hex HMAC-SHA256 of body + timestamp
key=test-android-signing-key
timestamp=1719045980
signature=10ffdd8125c5c2177f00107bf9c9d1033ddb88d06d17435336d6af859285f063

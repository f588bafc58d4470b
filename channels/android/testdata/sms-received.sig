# computed with Python's hmac, independently of verify.go: hex HMAC-SHA256 of body + timestamp
key=test-android-signing-key
timestamp=1719045971
signature=381c2914c568edfc42373301adef2ae959eb36c6c2b8fc1906678a4e7e415f56

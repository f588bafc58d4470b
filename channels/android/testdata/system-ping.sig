# computed with Python's hmac, independently of verify.go: hex HMAC-SHA256 of body + timestamp
key=test-android-signing-key
timestamp=1719046000
signature=b2c154dcb69b2dbcb6ad1055c685d256ff62741599a998e72bdffe93f505b46e

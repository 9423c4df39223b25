<?php
/*
 * fpm_env.php: answers every job with what the request looked like to PHP
 * (method, content type and length, query, basic-auth user and password,
 * script, user agent), one per line, so that a test sees the CGI params a
 * FastCGI pool sends.
 */
$s = $_SERVER;
$lines = [
    $s['REQUEST_METHOD'] ?? '-',
    $s['CONTENT_TYPE'] ?? '-',
    ($s['CONTENT_LENGTH'] ?? '-') . '=' . strlen((string)file_get_contents('php://input')),
    $s['QUERY_STRING'] ?? '-',
    ($s['PHP_AUTH_USER'] ?? '-') . ':' . ($s['PHP_AUTH_PW'] ?? '-'),
    $s['SCRIPT_NAME'] ?? '-',
    $s['REQUEST_URI'] ?? '-',
    $s['HTTP_USER_AGENT'] ?? '-',
    $s['GATEWAY_INTERFACE'] ?? '-',
    $s['SERVER_PROTOCOL'] ?? '-',
];
header('Content-Type: application/json');
echo json_encode(['gearman_ret' => 0, 'response_string' => implode("\n", $lines)]);

// bench_health_endpoint: the health_endpoint lines on their own (bench_publish prints them too, once merged).
void bench_health_endpoint();

int main() { bench_health_endpoint(); }

#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
int main(int argc,char**argv){int n=atoi(argv[1]);char buf[100];memset(buf,'a',100);
for(int round=0;round<3;round++){
 unlink("/tmp/fa"); int fa=open("/tmp/fa",O_CREAT|O_RDWR,0644);
 double t=now(); for(int i=0;i<n;i++){write(fa,buf,100);fdatasync(fa);} double ta=(now()-t)/n*1e6; close(fa);
 unlink("/tmp/fb"); int fb=open("/tmp/fb",O_CREAT|O_RDWR,0644); char*z=calloc(1,1<<20); for(int i=0;i<8;i++) write(fb,z,1<<20); fsync(fb);
 t=now(); for(int i=0;i<n;i++){pwrite(fb,buf,100,(off_t)i*100);fdatasync(fb);} double tb=(now()-t)/n*1e6; close(fb);
 unlink("/tmp/fc"); int fc=open("/tmp/fc",O_CREAT|O_RDWR,0644); fallocate(fc,0,0,8<<20); fsync(fc);
 t=now(); for(int i=0;i<n;i++){pwrite(fc,buf,100,(off_t)i*100);fdatasync(fc);} double tc=(now()-t)/n*1e6; close(fc);
 printf("append %.0f us, overwrite-zero-filled %.0f us, fallocated %.0f us\n",ta,tb,tc);}
}

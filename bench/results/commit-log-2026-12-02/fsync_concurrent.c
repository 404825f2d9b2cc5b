#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
void run(int id,int n){char name[64];sprintf(name,"/tmp/fw%d",id);unlink(name);int f=open(name,O_CREAT|O_RDWR,0644);char*z=calloc(1,1<<20);for(int i=0;i<4;i++)write(f,z,1<<20);fsync(f);
 char buf[100];memset(buf,'a',100);double t=now();for(int i=0;i<n;i++){pwrite(f,buf,100,(off_t)i*100);fdatasync(f);}printf("writer %d: %.0f us per fdatasync\n",id,(now()-t)/n*1e6);fflush(stdout);}
int main(int argc,char**argv){int k=atoi(argv[1]),n=atoi(argv[2]);for(int i=0;i<k;i++)if(fork()==0){run(i,n);exit(0);}while(wait(0)>0);}

#!/usr/bin/env python3
# check_link_cycles.py OBJDIR - the call graph between the .o files of one folder
# (nm: who defines what another one uses); prints it and any cycle, exit 1 on a cycle.
#   scripts/check_link_cycles.py build/capture/CMakeFiles/sluice_capture.dir
import subprocess,sys,glob,os,collections
d=sys.argv[1]
objs=glob.glob(d+'/*.o')
defs={};undef={}
for o in objs:
    name=os.path.basename(o).replace('.c.o','')
    out=subprocess.run(['nm',o],capture_output=True,text=True).stdout
    undef[name]=set()
    for l in out.split('\n'):
        p=l.split()
        if len(p)==3 and p[1] in 'TDRB': defs[p[2]]=name
        if len(p)==2 and p[0]=='U': undef[name].add(p[1])
g={n:sorted({defs[s] for s in u if s in defs and defs[s]!=n}) for n,u in undef.items()}
for n in sorted(g): print(n,'->',' '.join(g[n]))
# SCC
idx={};low={};st=[];on=set();res=[];c=[0]
def sc(v):
    idx[v]=low[v]=c[0];c[0]+=1;st.append(v);on.add(v)
    for w in g[v]:
        if w not in idx: sc(w);low[v]=min(low[v],low[w])
        elif w in on: low[v]=min(low[v],idx[w])
    if low[v]==idx[v]:
        comp=[]
        while True:
            w=st.pop();on.discard(w);comp.append(w)
            if w==v:break
        if len(comp)>1: res.append(comp)
for v in g:
    if v not in idx: sc(v)
print("CYCLES:", res)
sys.exit(1 if res else 0)
